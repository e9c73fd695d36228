export { classifyDocument } from "./classify-document";
export { convertLabUnit } from "./convert-lab-unit";
export { extractClinicalFacts, ON_BOX_PROVIDER } from "./extract-clinical-facts";
export { lookupLabTest } from "./lookup-lab-test";
export * from "./schema";
