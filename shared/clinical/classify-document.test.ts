import { describe, expect, it } from "vitest";
import { classifyDocument } from "./classify-document";

const classify = (text: string) => classifyDocument([{ text }]);

describe("classifyDocument", () => {
  it.each([
    [
      "Northmere Reference Laboratory\nLABORATORY REPORT\nPatient X DOB 01/02/1960\nCollected 06/20/2023 07:42\nReported 06/21/2023\nTest Result Flag Units Reference Range",
      "lab_report",
      "2023-06-20",
      "Northmere Reference Laboratory",
    ],
    [
      "Quillfeather Valley Medical Group\nOffice Visit - Family Medicine\nPatient Y DOB 04/18/1991\nMRN 1 Visit Date 11/15/2023\nChief Complaint\nCough.\nAssessment and Plan\n",
      "clinic_note",
      "2023-11-15",
      "Quillfeather Valley Medical Group",
    ],
    [
      "Wrenfield Lutheran Hospital\nDISCHARGE SUMMARY\nAdmitted 12/02/2023 Discharged 12/08/2023\nHospital Course\n",
      "discharge_summary",
      "2023-12-08",
      "Wrenfield Lutheran Hospital",
    ],
    [
      "WRENFIELD LUTHERAN HOSPITAL\nDIAGNOSTIC IMAGING REPORT\nNAME: Z DOB: 04/18/1991\nEXAM DATE: 11/15/2023\nFINDINGS:\nIMPRESSION:\n",
      "imaging_report",
      "2023-11-15",
      "WRENFIELD LUTHERAN HOSPITAL",
    ],
    [
      "Northmere Pathology Associates\nSURGICAL PATHOLOGY REPORT\nReceived 03/12/2024 Reported 03/15/2024\nGross Description\nMicroscopic Description\n",
      "pathology_report",
      "2024-03-15",
      "Northmere Pathology Associates",
    ],
  ])("%#", (text, type, date, facility) => {
    const c = classifyDocument([{ text }]);
    expect(c).toMatchObject({ document_type: type, service_date: date, facility });
    expect(c.confidence).toBeGreaterThan(0.5);
  });

  it("never takes the date of birth as service date, and says 'other' without evidence", () => {
    const c = classify("Some letter\nDOB: 01/02/1960\nThank you for seeing this patient on 03/04/2024.");
    expect(c.document_type).toBe("other");
    expect(c.service_date).toBe("2024-03-04");
  });
});

describe("classifyDocument: wordings and layouts it was not written for", () => {
  it.each([
    [
      "Department of Clinical Biochemistry\nBlood Sciences Report\nSample taken 14/03/2025\nSodium 139 mmol/L (133-146)\nPotassium 4.2 mmol/L (3.5-5.3)\nUrea 5.1 mmol/L (2.5-7.8)\nCreatinine 88 umol/L (59-104)",
      "lab_report",
    ],
    [
      "Pathology Department - Haematology\nHaemoglobin 128 g/L 115-165\nWhite cell count 6.1 x10^9/L 4.0-11.0\nPlatelets 250 x10^9/L 150-400\nNeutrophils 3.9 x10^9/L 2.0-7.5",
      "lab_report",
    ],
    [
      "Cellular Pathology\nHistopathology report\nSpecimen: skin ellipse, left forearm\nMacroscopic: an ellipse of skin 12 x 5 mm.\nMicroscopic: basal cell carcinoma, completely excised.",
      "pathology_report",
    ],
    [
      "Riverside Hospital\nImmediate discharge letter\nAdmitted 02/03/2025, discharged 06/03/2025\nHospital course\nTreated for community-acquired pneumonia.",
      "discharge_summary",
    ],
    [
      "Radiology Department\nCT abdomen and pelvis with contrast\nTechnique: axial images after IV contrast.\nFindings:\nNo free fluid.\nImpression:\nNo acute abnormality.",
      "imaging_report",
    ],
    [
      "Northgate Medical Practice\nDear Dr Whitfield,\nThank you for referring this patient, whom I saw today.\nPlan\nReview in three months.\nYours sincerely,\nDr E Marsh",
      "clinic_note",
    ],
  ])("%#: %s", (text, type) => {
    expect(classify(text).document_type).toBe(type);
  });

  it("reads slashed dates in the document's own order", () => {
    const uk =
      "Clinic letter\nDate of clinic: 03/04/2025\nDear Dr Whitfield,\nShe has anaemia.\nYours sincerely,";
    const us =
      "Office visit\nVisit date: 03/04/2025\nPatient seen. Hemoglobin stable.\nSincerely,\nJ Bell, MD";
    expect(classify(uk).service_date).toBe("2025-04-03");
    expect(classify(us).service_date).toBe("2025-03-04");
    // One unambiguous date settles the order for the others.
    expect(classify("Clinic note\nVisit date: 03/04/2025\nDOB: 25/12/1960").service_date).toBe("2025-04-03");
  });
});
