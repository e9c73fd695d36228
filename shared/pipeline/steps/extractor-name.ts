import { ON_BOX_PROVIDER } from "../../clinical/extract-clinical-facts";

/**
 * Which code produced a version's pages, classification and facts, stored on the version
 * (document_versions.extractor) and in every fact's provenance. The on-box rules provider and
 * its version: a change to the text or clinical rules that changes output bumps it.
 */
export const extractorName: string = ON_BOX_PROVIDER;
