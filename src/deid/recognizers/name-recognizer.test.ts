import { describe, expect, it } from 'vitest';
import { analyzeText, detectWith } from '../testing/detect-text.js';
import { initialsRecognizer } from './initials-recognizer.js';
import { nameRecognizer } from './name-recognizer.js';

const names = (text: string): string[] => detectWith(nameRecognizer, text).map((f) => f.text);

describe('nameRecognizer (164.514(b)(2)(i)(A))', () => {
  it.each([
    ['seen by Dr. Sarah Lindqvist today', 'Dr. Sarah Lindqvist'],
    ['PATIENT: MARGARET O\'CONNELL-REYES', "MARGARET O'CONNELL-REYES"],
    ['pt jane doe resting', 'jane doe'],
    ['dr nguyen at bedside', 'dr nguyen'],
    ['Patient Name: Ruiz, Carmen', 'Ruiz, Carmen'], // "Last, First": one span
    ['SMITH, JOHN admitted', 'SMITH, JOHN'],
    ['like Anna S., treated', 'Anna S.'],
    ['Jack B. was admitted', 'Jack B.'],
    ["Mr. Whitfield's wife called", 'Mr. Whitfield'],
    ['her daughter Rose found her', 'Rose'],
    ['consult by Dr. Will Young', 'Dr. Will Young'],
    ['her neighbour, Mr. Hill, came', 'Mr. Hill'],
    ['Hope Whitaker reviewed', 'Hope Whitaker'],
    ['seen by Jürgen Müller', 'Jürgen Müller'],
    ['Dear Dr. Raman,', 'Dr. Raman'],
    ['signed K. Okafor, RN', 'K. Okafor'],
    ['Thomas A. Bergström, DOB', 'Thomas A. Bergström'],
    ['seen by Dr. Ludwig van der Berg today', 'Dr. Ludwig van der Berg'],
    ['consulted Dr. Jean-Luc Picard', 'Dr. Jean-Luc Picard'],
    // After a relationship word, a dictionary first name is a name even lower case or everyday.
    ['Daughter hope called', 'hope'],
    ['wife rose visited', 'rose'],
    ['Son will visit', 'will'],
    ['Wife is ana.', 'ana'],
    ['husband named Mark arrived', 'Mark'],
    ['spouse: grace', 'grace'],
    // Authorship and copy cues.
    ['Note by Zbigniew Kelso', 'Zbigniew Kelso'],
    ['Signed electronically by Zbigniew Kelso', 'Zbigniew Kelso'],
    ['Authored by Zbigniew Kelso', 'Zbigniew Kelso'],
    ['Written by Zbigniew Okonkwo', 'Zbigniew Okonkwo'],
    ['Dictated by Zbigniew Okonkwo', 'Zbigniew Okonkwo'],
    ['cc: Zbigniew Okonkwo', 'Zbigniew Okonkwo'],
    // "Last, First" in capitals, with or without a cue.
    ['KOWALCZYK, STANISLAW', 'KOWALCZYK, STANISLAW'],
    ['Patient: KOWALCZYK, STANISLAW', 'KOWALCZYK, STANISLAW'],
    ['Name: KOWALCZYK, STANISLAW J', 'KOWALCZYK, STANISLAW J'],
    // A lower-case initial and surname after a strong cue.
    ['Cc: j. morales', 'j. morales'],
    ['signed by: r. okafor', 'r. okafor'],
  ])('finds %s', (text, want) => expect(names(text)).toContain(want));

  it.each([
    ['Pt Maria Garcia DOB 1930-02-11', 'Maria Garcia'],
    ['seen by Jane Doe MD today', 'Jane Doe'],
    ['Patient: Omar Haddad MRN 4471', 'Omar Haddad'],
    ['PATIENT: SMITH, DOB 1/2/33', 'SMITH'],
    ['Dr. Smith, Cardiology', 'Dr. Smith'],
    ['Son will visit', 'will'],
  ])('stops %s before a label or abbreviation in capitals', (text, want) => expect(names(text)).toEqual([want]));

  it.each([
    "History of Parkinson's disease",
    'Foley catheter removed',
    'Apgar scores 8 and 9',
    'Graves disease on methimazole',
    'Colles fracture of wrist',
    'Will follow up in clinic',
    'Hope this helps',
    'Patient tolerated lisinopril and metformin',
    'May need a Holter monitor',
    'ASSESSMENT AND PLAN',
    'BP 118/72, HR 78, Hgb 10.4',
    'Normal sinus rhythm',
    'Bell palsy resolved',
    'Down syndrome screening',
    // Near misses of the relationship, "Last, First" and lower-case initial rules.
    'Mother is deceased',
    'mother is well',
    'wife has dementia',
    'daughter states she is fine',
    'Father died of MI',
    'took p.o. meds',
    'e. coli in urine',
  ])('ignores %s', (text) => expect(names(text)).toEqual([]));
});

describe('initialsRecognizer', () => {
  it('finds dotted initials and leaves abbreviations', () => {
    expect(detectWith(initialsRecognizer, '0830 J.D. ambulated').map((f) => f.text)).toEqual(['J.D.']);
    expect(detectWith(initialsRecognizer, 'NPO, meds P.O. at 9 A.M., U.S. citizen')).toEqual([]);
  });
  it.each([
    ['note by J D', 'J D'],
    ['by J D.', 'J D'],
    ['written up by K M on 3/4', 'K M'],
  ])('finds spaced initials after "by": %s', (text, want) => expect(detectWith(initialsRecognizer, text).map((f) => f.text)).toEqual([want]));
  it.each(['by A B', 'by I V push', 'by J Doe', 'by J D R', 'hepatitis B by B C', 'multiplied by X Y', 'by jd', 'by JD', 'nearby J D', 'D.O.B. on file'])(
    'ignores %s',
    (text) => expect(detectWith(initialsRecognizer, text)).toEqual([]),
  );
});

describe('run-together and spaced initials after a strong cue (analyzer)', () => {
  it.each([
    ['Cc: JD', 'JD'],
    ['signed JD', 'JD'],
    ['signed by J D', 'J D'],
    ['Cc: J D', 'J D'],
    ['report by J D', 'J D'],
  ])('masks %s', (text, want) => expect(analyzeText(text).map((f) => f.text)).toContain(want));
  it.each(['JD was mentioned', 'the J D ratio', 'Vitamin D by I V'])('leaves %s', (text) => expect(analyzeText(text).filter((f) => f.type === 'NAME')).toEqual([]));
});
