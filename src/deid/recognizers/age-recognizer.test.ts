import { describe, expect, it } from 'vitest';
import { detectWith } from '../testing/detect-text.js';
import { ageRecognizer, wordsToNumber } from './age-recognizer.js';

const ages = (text: string): string[] => detectWith(ageRecognizer, text).map((f) => f.text);

describe('ageRecognizer (ages over 89, 164.514(b)(2)(i)(C))', () => {
  it.each([
    ['a 92-year-old woman', '92'],
    ['92 yo F', '92'],
    ['101 years old', '101'],
    ['94yo', '94'],
    ['Age: 96', '96'],
    ['she turned 94 on', '94'],
    ['a ninety-two year old', 'ninety-two'],
    ['one hundred and three years old', 'one hundred and three'],
    ['a man in his 90s', '90s'],
    ['91 M with CHF', '91'],
    // A sentence-final full stop must not block detection.
    ['Age: 97.', '97'],
    ['AGE: 92.', '92'],
    ['Aged 91.', '91'],
    ['age 104.', '104'],
    ['He is 95.', '95'],
    ['The patient was 93 when admitted', '93'],
    ['she is now 96', '96'],
    // Ages in words after a label or cue.
    ['she turned ninety-one last week', 'ninety-one'],
    ['Age: ninety-two', 'ninety-two'],
    ['He is ninety-four.', 'ninety-four'],
  ])('finds %s', (text, want) => expect(ages(text)).toContain(want));

  it.each(['a 89-year-old man', '65 yo M', 'HR 96, RR 18', 'ninety minutes', 'aged 45', '92 mg', 'in the 1990s', 'room 95',
    'Age: 97.5 percentile', 'age 89.', 'He is 95% adherent', 'She was 96 kg', 'he is 98.6 F', 'he was ninety minutes late',
    'Age: ninety minutes', 'it is 95.', 'SpO2 was 97.', 'Aged 45.', 'He is 65.'])('ignores %s', (text) =>
    expect(ages(text)).toEqual([]),
  );

  it('reads ages in words', () => {
    expect(wordsToNumber('ninety-nine')).toBe(99);
    expect(wordsToNumber('one hundred and two')).toBe(102);
    expect(wordsToNumber('ninety banana')).toBeUndefined();
  });
});
