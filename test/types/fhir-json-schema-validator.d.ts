/** The validator ships no types: the one method the tests use. */
declare module "@asymmetrik/fhir-json-schema-validator" {
  export default class JSONSchemaValidator {
    constructor(schema?: unknown, ajvSettings?: unknown);
    /** Errors, empty when the resource validates against the FHIR R4 JSON schema. */
    validate(resource: unknown, verbose?: boolean): unknown[];
  }
}
