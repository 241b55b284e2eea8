import { describe, expect, it } from 'vitest';
import { detectWith } from '../testing/detect-text.js';
import { dateRecognizer } from './date-recognizer.js';

const dates = (text: string): string[] => [...new Set(detectWith(dateRecognizer, text).map((f) => f.text))];

describe('dateRecognizer (164.514(b)(2)(i)(C))', () => {
  it.each([
    ['seen on April 12, 2023.', 'April 12, 2023'],
    ['seen May 30th, 2022', 'May 30th, 2022'],
    ['Apr. 3 2021 visit', 'Apr. 3 2021'],
    ['on 12 April 2023', '12 April 2023'],
    ['the 4th of March', '4th of March'],
    ['dc 12-Apr-2024 am', '12-Apr-2024'],
    ['DOB 04/17/1931', '04/17/1931'],
    ['on 4.17.31 per chart', '4.17.31'],
    ['on 2023-03-11', '2023-03-11'],
    ['back in March 2021', 'March 2021'],
    ['since 03/2021', '03/2021'],
    ['fell on 3/2.', '3/2'],
    ['due March 4th', 'March 4th'],
    ['admitted since August', 'August'],
    ['around Christmas Eve', 'Christmas Eve'],
    ["seen jan 5 '21", "jan 5 '21"],
    ['collected 14MAR2024 am', '14MAR2024'],
    ['collected 14-MAR-2024 am', '14-MAR-2024'],
    ['filled 14Mar24 per pharmacy', '14Mar24'],
    ['drawn 3-Jan-24', '3-Jan-24'],
    ['seen March the 14th', 'March the 14th'],
    ['seen Mar-14 at clinic', 'Mar-14'],
    ['due Sept-3.', 'Sept-3'],
    ['started in May', 'May'],
    ['well since May.', 'May'],
    ['until early May', 'May'],
    ['by mid-May', 'May'],
    ['during late May she', 'May'],
    ['the week of May', 'May'],
    ['seen on the 14th', '14th'],
    ['returned on the 3rd, then', '3rd'],
    ['on the 21st at noon', '21st'],
  ])('finds %s', (text, want) => expect(dates(text)).toContain(want));

  it.each([
    'diagnosed in 2019', // a bare year is kept
    'BP 120/80',
    'pain 4/10',
    'took 1/2 tab',
    'ate 3/4 of meal',
    'you may 5 mg', // not "May 5"
    'Mayo clinic',
    'gave 13/45 score',
    'ICD-10 E11.9, LOINC 4548-4',
    'a may be noted',
    'this may be benign',
    'I may go home',
    'she may have had',
    'symptoms of May be', // capitalised but a verb follows
    'may the 4th be', // lower-case modal
    'on the 3rd floor',
    'on the 2nd day',
    'on the 3rd dose',
    'on the 2nd attempt',
    'the 14th cranial nerve',
    'on the 5th rib',
    'MAR-14 reviewed', // medication administration record
    'Mar-5 mg',
    'B14MAR2024', // part of a code
    'Mayo in May-ish', // no: "May" not a standalone word
  ])('ignores %s', (text) => expect(dates(text)).toEqual([]));
});
