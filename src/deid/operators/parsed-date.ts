/**
 * Parses the date shapes the date recognizer flags into parts plus the style they were written
 * in, and formats parts back in that style, so a shifted date reads like the original
 * ("Apr 12th, 2023" -> "Jun 3rd, 2023"; "4/12/23" -> "6/3/23").
 */
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

export interface DateStyle {
  readonly kind: 'numeric_mdy' | 'numeric_ymd' | 'numeric_md' | 'numeric_my' | 'month_day' | 'day_month' | 'month_year' | 'month_only';
  readonly separator: string;
  readonly padded: boolean;
  readonly yearDigits: 2 | 4 | 0;
  readonly monthForm: 'full' | 'short' | 'short_dot' | 'numeric';
  readonly ordinal: boolean;
  readonly comma: boolean;
  readonly upper: boolean;
}

export interface ParsedDate {
  readonly year: number | undefined;
  readonly month: number;
  readonly day: number | undefined;
  readonly style: DateStyle;
}

function monthIndex(word: string): number {
  const w = word.toLowerCase().replace(/\.$/, '');
  return MONTHS.findIndex((m) => m.startsWith(w.slice(0, 3)) && (w.length <= 4 || m === w || (m === 'september' && w === 'sept')));
}

function year(text: string | undefined): { year: number | undefined; digits: 2 | 4 | 0 } {
  if (text === undefined) return { year: undefined, digits: 0 };
  const t = text.replace("'", '');
  if (t.length === 4) return { year: Number(t), digits: 4 };
  const n = Number(t);
  return { year: n + (n > 50 ? 1900 : 2000), digits: 2 };
}

const base = { separator: '', padded: false, yearDigits: 0 as const, monthForm: 'numeric' as const, ordinal: false, comma: false, upper: false };

export function parseDate(text: string): ParsedDate | undefined {
  const s = text.trim();
  let m = /^(\d{4})([/.-])(\d{1,2})\2(\d{1,2})$/.exec(s);
  if (m) return { year: Number(m[1]), month: Number(m[3]), day: Number(m[4]), style: { ...base, kind: 'numeric_ymd', separator: m[2] ?? '-', padded: (m[3] ?? '').length === 2, yearDigits: 4 } };
  m = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})$/.exec(s);
  if (m) {
    const y = year(m[4]);
    return { year: y.year, month: Number(m[1]), day: Number(m[3]), style: { ...base, kind: 'numeric_mdy', separator: m[2] ?? '/', padded: (m[1] ?? '').length === 2, yearDigits: y.digits } };
  }
  m = /^(\d{1,2})[/-](\d{4})$/.exec(s);
  if (m) return { year: Number(m[2]), month: Number(m[1]), day: undefined, style: { ...base, kind: 'numeric_my', separator: '/', padded: (m[1] ?? '').length === 2, yearDigits: 4 } };
  m = /^(\d{1,2})\/(\d{1,2})$/.exec(s);
  if (m) return { year: undefined, month: Number(m[1]), day: Number(m[2]), style: { ...base, kind: 'numeric_md', separator: '/', padded: (m[1] ?? '').length === 2 } };
  m = /^([A-Za-z]+\.?)\s+(\d{1,2})(st|nd|rd|th)?(?:(,)?\s+('?\d{2}|\d{4}))?$/.exec(s);
  if (m) {
    const mi = monthIndex(m[1] ?? '');
    const y = year(m[5]);
    if (mi >= 0) return { year: y.year, month: mi + 1, day: Number(m[2]), style: { ...base, kind: 'month_day', monthForm: monthForm(m[1] ?? ''), ordinal: m[3] !== undefined, comma: m[4] !== undefined, yearDigits: y.digits, upper: (m[1] ?? '') === (m[1] ?? '').toUpperCase() } };
  }
  m = /^(\d{1,2})(st|nd|rd|th)?(?:\s+of)?([\s/-]?)([A-Za-z]+\.?)(?:(?:,?\s+|[-/])(\d{4}|\d{2}))?$/.exec(s);
  if (m) {
    const mi = monthIndex(m[4] ?? '');
    const y = year(m[5]);
    if (mi >= 0) return { year: y.year, month: mi + 1, day: Number(m[1]), style: { ...base, kind: 'day_month', separator: m[3] ?? ' ', monthForm: monthForm(m[4] ?? ''), ordinal: m[2] !== undefined, yearDigits: y.digits, upper: (m[4] ?? '') === (m[4] ?? '').toUpperCase() } };
  }
  m = /^([A-Za-z]+\.?)(,)?\s+(?:of\s+)?(\d{4})$/.exec(s);
  if (m) {
    const mi = monthIndex(m[1] ?? '');
    if (mi >= 0) return { year: Number(m[3]), month: mi + 1, day: undefined, style: { ...base, kind: 'month_year', monthForm: monthForm(m[1] ?? ''), yearDigits: 4, comma: m[2] !== undefined } };
  }
  m = /^([A-Za-z]+\.?)$/.exec(s);
  if (m) {
    const mi = monthIndex(m[1] ?? '');
    if (mi >= 0) return { year: undefined, month: mi + 1, day: undefined, style: { ...base, kind: 'month_only', monthForm: monthForm(m[1] ?? '') } };
  }
  return undefined;
}

function monthForm(word: string): DateStyle['monthForm'] {
  if (word.endsWith('.')) return 'short_dot';
  return word.length <= 4 && word.toLowerCase() !== 'june' && word.toLowerCase() !== 'july' ? 'short' : 'full';
}

function monthName(month: number, style: DateStyle): string {
  const full = MONTHS[month - 1] ?? 'january';
  const word = style.monthForm === 'full' ? full : full.slice(0, 3);
  const cased = style.upper ? word.toUpperCase() : word.charAt(0).toUpperCase() + word.slice(1);
  return style.monthForm === 'short_dot' ? `${cased}.` : cased;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

const pad = (n: number, padded: boolean): string => (padded ? String(n).padStart(2, '0') : String(n));

export function formatDate(d: { year: number | undefined; month: number; day: number | undefined }, style: DateStyle): string {
  const y = d.year === undefined ? '' : style.yearDigits === 2 ? String(d.year % 100).padStart(2, '0') : String(d.year);
  const day = d.day ?? 1;
  switch (style.kind) {
    case 'numeric_ymd':
      return [y, pad(d.month, style.padded), pad(day, style.padded)].join(style.separator);
    case 'numeric_mdy':
      return [pad(d.month, style.padded), pad(day, style.padded), y].join(style.separator);
    case 'numeric_md':
      return `${pad(d.month, style.padded)}/${pad(day, style.padded)}`;
    case 'numeric_my':
      return `${pad(d.month, style.padded)}/${y}`;
    case 'month_day': {
      const dd = style.ordinal ? ordinal(day) : String(day);
      return y === '' ? `${monthName(d.month, style)} ${dd}` : `${monthName(d.month, style)} ${dd}${style.comma ? ',' : ''} ${y}`;
    }
    case 'day_month': {
      const dd = style.ordinal ? ordinal(day) : String(day);
      const sep = style.separator === '' ? ' ' : style.separator;
      return y === '' ? `${dd}${sep}${monthName(d.month, style)}` : `${dd}${sep}${monthName(d.month, style)}${sep === ' ' ? ' ' : sep}${y}`;
    }
    case 'month_year':
      return `${monthName(d.month, style)}${style.comma ? ',' : ''} ${y}`;
    case 'month_only':
      return monthName(d.month, style);
  }
}
