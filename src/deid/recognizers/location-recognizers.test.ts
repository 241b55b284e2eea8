import { describe, expect, it } from 'vitest';
import { detectWith } from '../testing/detect-text.js';
import { addressRecognizer } from './address-recognizer.js';
import { facilityRecognizer } from './facility-recognizer.js';
import { placeRecognizer } from './place-recognizer.js';

const texts = (r: Parameters<typeof detectWith>[0], text: string): string[] => detectWith(r, text).map((f) => f.text);

describe('addressRecognizer (164.514(b)(2)(i)(B))', () => {
  it.each([
    ['lives at 4500 Quarry Bend Road, Suite 210 now', '4500 Quarry Bend Road, Suite 210'],
    ['at 77 W. Birchwood Lane Apt 4B', '77 W. Birchwood Lane Apt 4B'],
    ['mail PO Box 44210 only', 'PO Box 44210'],
    ['Maplewood, MN 55109-4412', '55109-4412'],
    ['Fairbanks, AK 99701', '99701'],
    ['Zip code: 60137', '60137'],
    ['from Kenai Peninsula Borough', 'Kenai Peninsula Borough'],
    ['2210 pine hollow drive', '2210 pine hollow drive'],
    ['Fairbanks, AK 99701', 'Fairbanks'],
    // A ZIP after a label with a verb, or after a Gazetteer city with no state.
    ["Patient's ZIP is 03601", '03601'],
    ['zip code is 02115.', '02115'],
    ['postal code of 60614', '60614'],
    ['lives in Boston 02115', '02115'],
    ['Chicago 60614', '60614'],
    ['Chicago, 60614-1234', '60614-1234'],
    ['San Antonio 78205 area', '78205'],
    ['BOSTON 02115', '02115'],
  ])('finds %s', (text, want) => expect(texts(addressRecognizer, text)).toContain(want));

  it.each(['seen 2 weeks ago by Dr Lee', 'WBC 12000 cells', 'given 5 mg daily', 'code 55109 billed', 'walked 200 feet',
    'Room 10234', 'Bed 12345', 'glucose 10234 mg/dL', 'BP 140/90', 'in 2019 and 2020', 'given 5 mg', 'Lab 12345 pending',
    'zip line 12345', 'Normal 12345', 'Boston 2115', 'Boston 021150'])('ignores %s', (text) =>
    expect(texts(addressRecognizer, text)).toEqual([]),
  );
});

describe('facilityRecognizer', () => {
  it.each([
    ['admitted to Riverside Memorial Hospital today', 'Riverside Memorial Hospital'],
    ['seen at St. Vincent\'s on', "St. Vincent's"],
    ['followed at Mt. Sinai', 'Mt. Sinai'],
    ['moved to Lakeview Nursing Home', 'Lakeview Nursing Home'],
    ['letter to Cardiology Associates of the North', 'Cardiology Associates of the North'],
    ['transferred from Cedar Crest yesterday', 'Cedar Crest'],
    ['at the Hospital of the University of Pennsylvania', 'Hospital of the University of Pennsylvania'],
    ['seen at UCSF Med Ctr', 'UCSF Med Ctr'],
    // A proper name after "<care verb> in": inner capital, two capitalised halves, a known name.
    ['treated in Cedars-Sinai ER on 4/22', 'Cedars-Sinai ER'],
    ['seen in BronxCare on Monday', 'BronxCare'],
    // "at <name> Hospital" is as strong as the head-word rule (beats a person's name).
    ['treated at John Hopkins Hospital in Baltimore', 'John Hopkins Hospital'],
    // A sentence ends at the facility: the next sentence's first word stays outside.
    ['Seen at Fletcher Allen Health Care. Call 802-555-0147.', 'Fletcher Allen Health Care'],
    ['Referred to Lakeside Medical Center. Patient agrees.', 'Lakeside Medical Center'],
    ['seen at Mercy Clinic. Seen again later', 'Mercy Clinic'],
  ])('finds %s', (text, want) => expect(texts(facilityRecognizer, text)).toContain(want));

  it.each([
    'Past Medical History: none',
    'Medical Record Number',
    'at baseline',
    'at Discharge the patient',
    'Emergency Department course',
    'General Surgery consult',
    'at 3 pm',
    'in the ICU',
    // Near misses of the "in" rule: departments, acronyms, everyday and clinical words.
    'seen in Cardiology for chest pain',
    'admitted in DKA',
    'seen in Follow-up',
    'admitted in Afib with RVR',
    'evaluated in Triage',
    'seen in Telehealth',
    'transferred in Stable condition',
    'seen in Pre-op',
    'worked in Construction',
    'lives in Assisted Living',
  ])(
    'ignores %s',
    (text) => expect(texts(facilityRecognizer, text)).toEqual([]),
  );
});

describe('placeRecognizer', () => {
  it.each([
    ['lives in Ashland with her son', 'Ashland'],
    ['from Salt Lake City', 'Salt Lake City'],
    ['Akron, OH', 'Akron'],
    ['moved to San Antonio', 'San Antonio'],
    // After a facility word and a comma: "Mercy Hospital, Springfield".
    ['seen at St. Francis Hospital, Chicago on', 'Chicago'],
    ['Lakeview Clinic - Ashland', 'Ashland'],
    ['patient from NYC', 'NYC'],
    ['moved to Philly', 'Philly'],
  ])('finds %s', (text, want) => expect(texts(placeRecognizer, text)).toContain(want));

  it.each(['in Normal sinus rhythm', 'Mobile phone', 'Paris was a name', 'Temple fracture', 'Hospital, Normal saline given', 'nyc lower case', 'LA dilated'])('ignores %s', (text) => expect(texts(placeRecognizer, text)).toEqual([]));
});
