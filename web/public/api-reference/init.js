// The human-readable API reference: Swagger UI, served from our own origin
// (scripts/lib/vendor-web-assets.ts), rendering the OpenAPI document the api function serves.
// Nothing is fetched from anywhere else: no validator badge (it calls a public service), and
// "Try it out" starts off so that reading the reference never sends a request by accident.
/* global SwaggerUIBundle */
SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#api-reference",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
  persistAuthorization: false,
});
