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
