import { describe, expect, it } from 'vitest';
import { hasMixedScriptWord, normalizeText } from './normalize-text.js';

describe('normalizeText', () => {
  it('removes zero-width and soft-hyphen characters and folds fullwidth and other scripts\' digits', () => {
    expect(normalizeText('1\u200B2\u200B3-4\u200B5-6789')).toBe('123-45-6789');
    expect(normalizeText('１２３-４５-６７８９')).toBe('123-45-6789');
    expect(normalizeText('123\u00AD-45\u00AD-6789')).toBe('123-45-6789');
    expect(normalizeText('j\u200Bessica.albright@exa\u200Bmple.com')).toBe('jessica.albright@example.com');
    expect(normalizeText('\u0661\u0662\u0663-\u0664\u0665-\u0666\u0667\u0668\u0669')).toBe('123-45-6789'); // Arabic-Indic
    expect(normalizeText('\u09E7\u09E8\u09E9')).toBe('123'); // Bengali
  });

  it('leaves ordinary text alone', () => {
    const text = 'Follow-up on 3/4 at 10:30, café, naïve, 98.6 °F';
    expect(normalizeText(text)).toBe(text.normalize('NFKC'));
  });
});

describe('hasMixedScriptWord', () => {
  it('finds a Latin word with a Cyrillic or Greek letter in it, not whole words of one script', () => {
    expect(hasMixedScriptWord('Jеssica Albright')).toBe(true); // Cyrillic е
    expect(hasMixedScriptWord('Αlbright')).toBe(true); // Greek Alpha
    expect(hasMixedScriptWord('Jessica Albright')).toBe(false);
    expect(hasMixedScriptWord('Москва and Athens (Αθήνα)')).toBe(false);
  });
});
