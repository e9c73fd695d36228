import { describe, expect, it } from "vitest";
import { seededRandom } from "../../core/seeded-random";
import { createRedactionSession } from "./create-redaction-session";

const redact = (text: string) => createRedactionSession().redact(text).text;

describe("identifier formats", () => {
  it.each([
    ["DOB: 03/05/1961", "03/05/1961"],
    ["Seen on 2024-03-05 for follow-up", "2024-03-05"],
    ["Collected 5 Mar 2024 08:10", "5 Mar 2024"],
    ["Admitted March 5, 2024.", "March 5, 2024"],
    ["Date: 05-MAR-2024", "05-MAR-2024"],
    ["on the 5th March 2024", "5th March 2024"],
    ["MRN: AB-1234-5678", "AB-1234-5678"],
    ["Medical Record Number 00488120", "00488120"],
    ["Tel (614) 555-0116", "(614) 555-0116"],
    ["Phone: 614.555.0116 ext. 22", "614.555.0116 ext. 22"],
    ["Call +44 20 7946 0958", "+44 20 7946 0958"],
    ["Fax: (614) 555-0199", "(614) 555-0199"],
    ["email j.doe-smith@example.org", "j.doe-smith@example.org"],
    ["SSN 921-47-3306", "921-47-3306"],
    ["NHS No: 943 476 5919", "943 476 5919"],
    ["Member ID: LCH-8812-30065", "LCH-8812-30065"],
    ["Policy #: BMH884120937", "BMH884120937"],
    ["Account No. 7712093", "7712093"],
    ["Lives at 61 Chapel Green Road, Wrenfield, OH 43085", "61 Chapel Green Road"],
    ["Wrenfield, OH 43085-1234", "OH 43085-1234"],
    ["PO Box 1170", "PO Box 1170"],
    ["London SW1A 1AA", "SW1A 1AA"],
    ["Toronto, ON M5V 3L9", "M5V 3L9"],
    ["See https://portal.example.org/p/123", "https://portal.example.org/p/123"],
    ["from 192.168.10.24", "192.168.10.24"],
    ["Patient: TARRANT, ROSALIND I    DOB: 12/02/1980", "TARRANT, ROSALIND I"],
    ["Patient Name   Grace Emiko Nakamura-Whitfield", "Grace Emiko Nakamura-Whitfield"],
    ["Dear Mr. Ashgrove,", "Ashgrove"],
    ["Electronically signed by: Yusuf Penhallow, MD", "Yusuf Penhallow"],
    ["Ordering MD: ARKWRIGHT, CLEMENTINE", "ARKWRIGHT, CLEMENTINE"],
    ["Referring: HALDANE, NKECHI", "HALDANE, NKECHI"],
    ["Ines Calloway MD", "Ines Calloway"],
    ["Northmere Reference Laboratory, 18 Kiln Street", "Northmere Reference Laboratory"],
    ["WRENFIELD LUTHERAN HOSPITAL", "WRENFIELD LUTHERAN HOSPITAL"],
  ])("%s", (text, identifier) => {
    const out = redact(text);
    expect(out).not.toContain(identifier);
    expect(out).toMatch(/\[[A-Z_]+_\d+\]/);
  });
});

describe("clinical text survives", () => {
  const clinical = [
    "TEST                 RESULT  FLAG UNITS     REF RANGE",
    "Glucose              105     H    mg/dL     70-99",
    "HbA1c                6.1     H    %         4.0-5.6",
    "LDL Cholesterol      162     H    mg/dL     <100",
    "Free T4              1.2          ng/dL     0.8-1.8",
    "Vitamin B12          480          pg/mL     200-900",
    "25-OH Vitamin D      18      L    ng/mL     30-100",
    "WBC                  7.3          K/uL      4.0-11.0",
    "eGFR                 >90          mL/min/1.73m2",
    "LOINC 2345-7  4548-4   ICD-10 E11.9, I10, E78.5",
    "BP 128/82  HR 76  Temp 98.1 F  SpO2 97%  Wt 82.4 kg",
    "Medications: Metformin 500 mg twice daily; Atorvastatin 20 mg at night; Lisinopril 10 mg daily",
    "Amoxicillin-clavulanate 875-125 mg PO twice daily; Tiotropium 18 mcg inhaled once daily",
    "Assessment: Type 2 diabetes mellitus without complications. Hyperlipidaemia.",
    "Allergies: Penicillin (rash). No known food allergies.",
  ].join("\n");

  it("analytes, values, units, ranges, codes, vitals, drugs and doses are untouched", () => {
    expect(redact(clinical)).toBe(clinical);
  });
});

describe("placeholders", () => {
  it("are typed and stable across the texts of one session, and restore to the originals", () => {
    const session = createRedactionSession();
    const a = session.redact("Patient: ASHGROVE, WENDELL  DOB: 06/25/1939  Tel (614) 555-0116");
    const b = session.redact("Mr. Ashgrove called from 614-555-0116 on 06/25/1939.");
    expect(a.text).toBe("Patient: [NAME_1]  DOB: [DATE_1]  Tel [PHONE_1]");
    expect(b.text).toContain("[PHONE_1]");
    expect(b.text).toContain("[DATE_1]");
    expect(b.text).not.toContain("Ashgrove");
    expect(session.restore(a.text)).toBe("Patient: ASHGROVE, WENDELL  DOB: 06/25/1939  Tel (614) 555-0116");
    expect(session.removedCount).toBeGreaterThanOrEqual(6);
    expect(a.removed).toEqual({ name: 1, date: 1, phone: 1 });
  });

  it("the patient's known identifiers are found in forms the rules alone would miss", () => {
    const session = createRedactionSession({
      names: [{ given: "Wendell", family: "Ashgrove" }],
      dateOfBirth: "1939-06-25",
      mrn: "WL00488120",
      phones: ["+1 614 555 0116"],
      emails: [],
      addresses: ["61 Chapel Green Road, Wrenfield, OH 43085"],
      otherIds: [],
    });
    const out = session.redact(
      "wendell ashgrove (born June 25, 1939), chart WL-00488120, lives in Wrenfield; tel 6145550116",
    ).text;
    for (const s of ["wendell", "ashgrove", "June 25, 1939", "WL-00488120", "Wrenfield", "6145550116"])
      expect(out).not.toContain(s);
  });
});

// ---------------------------------------------------------------------------------------
// Generated documents: names, layouts and formats the rules were not written against.

const GIVEN = [
  "Marisol",
  "Teodor",
  "Anneliese",
  "Kwabena",
  "Yelena",
  "Padraig",
  "Sunniva",
  "Ignatius",
  "Oluwaseun",
  "Henrike",
  "Bartholomew",
  "Zofia",
];
const FAMILY = [
  "Quenneville",
  "Abernathy-Roe",
  "Szczepanski",
  "Oyelaran",
  "Van der Berg",
  "McTavish",
  "Lindqvist",
  "Delacroix",
  "Fairweather",
  "Nakagawa",
  "Ortega-Lind",
  "Blackwood",
];
const TOWNS = ["Harrowgate", "Millbrook Falls", "Eastwick", "Stonebridge", "Cedar Hollow"];
const STREETS = ["Juniper Avenue", "Old Quarry Road", "Tamarack Lane", "Weaver Court", "Harbour View Drive"];
const FACILITIES = [
  "Stonebridge General Hospital",
  "Cedar Hollow Medical Center",
  "Eastwick Family Practice",
  "Millbrook Diagnostics",
];

const rng = seededRandom;

function generate(seed: number): { text: string; phi: string[] } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const pad = (n: number) => String(n).padStart(2, "0");
  const given = pick(GIVEN);
  const family = pick(FAMILY);
  const doctor = `${pick(GIVEN)} ${pick(FAMILY)}`;
  const [y, m, d] = [1930 + Math.floor(r() * 70), 1 + Math.floor(r() * 12), 1 + Math.floor(r() * 28)];
  const months = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
  ];
  const dob = pick([
    `${pad(m)}/${pad(d)}/${y}`,
    `${y}-${pad(m)}-${pad(d)}`,
    `${d} ${months[m - 1]!.slice(0, 3)} ${y}`,
    `${months[m - 1]} ${d}, ${y}`,
  ]);
  const phone = pick([
    `(${300 + Math.floor(r() * 600)}) 555-0${100 + Math.floor(r() * 899)}`,
    `${300 + Math.floor(r() * 600)}-555-0${100 + Math.floor(r() * 899)}`,
  ]);
  const mrn = `${pick(["HX", "MC", "RX", "ST"])}-${1000 + Math.floor(r() * 8999)}-${1000 + Math.floor(r() * 8999)}`;
  const email = `${given.toLowerCase()}.${family.toLowerCase().replace(/[^a-z]/g, "")}@example.com`;
  const street = `${1 + Math.floor(r() * 3000)} ${pick(STREETS)}`;
  const town = pick(TOWNS);
  const zip = `${pick(["OH", "PA", "MI", "WI"])} ${40000 + Math.floor(r() * 9999)}`;
  const facility = pick(FACILITIES);
  const patientName = pick([
    `${family.toUpperCase()}, ${given.toUpperCase()}`,
    `${given} ${family}`,
    `${family}, ${given}`,
  ]);
  const layout = Math.floor(r() * 3);
  const clinical =
    "Glucose 118 mg/dL (70-99) H\nHbA1c 7.2 % (4.0-5.6) H\nMetformin 1000 mg twice daily\nAtorvastatin 40 mg nightly";
  const text =
    layout === 0
      ? `${facility.toUpperCase()}\n${street}, ${town}, ${zip}\nPATIENT: ${patientName}    DOB: ${dob}\nMRN: ${mrn}    PHONE: ${phone}\nEMAIL: ${email}\nORDERING MD: ${doctor}\n${clinical}`
      : layout === 1
        ? `${facility}\nPatient Name   ${patientName}\nDate of Birth  ${dob}\nMRN            ${mrn}\nTelephone      ${phone}\nAddress        ${street}, ${town}, ${zip}\n\n${clinical}\n\nElectronically signed: ${doctor}, MD`
        : `Dear Dr. ${doctor.split(" ")[1]},\n\nI saw ${given} ${family} (DOB ${dob}, MRN ${mrn}) today at ${facility}. ${clinical.replace(/\n/g, "; ")}.\nContact: ${phone}, ${email}, ${street}, ${town}.\n\nYours sincerely,\n${doctor}, MD`;
  return { text, phi: [patientName, dob, phone, mrn, email, street, facility, doctor] };
}

describe("generated documents (names, layouts and formats not in any rule)", () => {
  it("removes at least 98% of identifiers and keeps every lab value and drug name", () => {
    let total = 0;
    let removed = 0;
    const leaks: string[] = [];
    for (let seed = 1; seed <= 150; seed++) {
      const doc = generate(seed);
      const out = redact(doc.text);
      for (const p of doc.phi) {
        total += 1;
        if (out.toLowerCase().includes(p.toLowerCase())) leaks.push(`${seed}: ${p} in ${out}`);
        else removed += 1;
      }
      for (const kept of [
        "118 mg/dL",
        "7.2 %",
        "Metformin 1000 mg",
        "Atorvastatin 40 mg",
        "70-99",
        "4.0-5.6",
      ]) {
        expect(out, `seed ${seed}`).toContain(kept);
      }
    }
    expect(removed / total, leaks.slice(0, 10).join("\n")).toBeGreaterThanOrEqual(0.98);
  });
});
