import { describe, expect, it } from 'vitest';
import { detectWith } from '../testing/detect-text.js';
import { emailRecognizer } from './email-recognizer.js';
import { ipRecognizer } from './ip-recognizer.js';
import { phoneRecognizer } from './phone-recognizer.js';
import { urlRecognizer } from './url-recognizer.js';

describe('emailRecognizer', () => {
  it.each([
    ['write to j.smith+clinic@example.org today', 'j.smith+clinic@example.org'],
    ['<ANA_RUIZ@Mail.Example.COM>', 'ANA_RUIZ@Mail.Example.COM'],
  ])('finds %s', (text, want) => expect(detectWith(emailRecognizer, text)).toEqual([{ text: want, type: 'EMAIL' }]));
  it.each(['send an email to the team', 'user@localhost', '@handle on social media'])('ignores %s', (text) => expect(detectWith(emailRecognizer, text)).toEqual([]));
});

describe('urlRecognizer', () => {
  it.each([
    ['see https://portal.example.org/p?id=12.', 'https://portal.example.org/p?id=12'],
    ['(www.example-clinic.com/dr-lee)', 'www.example-clinic.com/dr-lee'],
    ['mychart.example.org/patient/881 has it', 'mychart.example.org/patient/881'],
  ])('finds %s', (text, want) => expect(detectWith(urlRecognizer, text)).toEqual([{ text: want, type: 'URL' }]));
  it.each(['the e.g. clause', 'ratio 3.5/4.0', 'file notes.txt'])('ignores %s', (text) => expect(detectWith(urlRecognizer, text)).toEqual([]));
  it.each([
    ['her website jsmith.net has photos', 'jsmith.net', 'URL'],
    ['blog: janedoe.co.uk.', 'janedoe.co.uk', 'URL'],
    ['runs a server at home.smithfamily.org', 'home.smithfamily.org', 'URL'],
    ['domain is jd1931.me', 'jd1931.me', 'URL'],
    ['follow @jsmith1931 for updates', '@jsmith1931', 'OTHER_ID'],
    ['her Instagram is @janedoe', '@janedoe', 'OTHER_ID'],
    ['tagged @jane_doe', '@jane_doe', 'OTHER_ID'],
  ])('finds bare domain or handle %s', (text, want, type) => expect(detectWith(urlRecognizer, text)).toEqual([{ text: want, type }]));
  it.each([
    'jsmith.net is mentioned', // no cue
    'injection site e.g. deltoid',
    'site i.e. the arm',
    'site vs. control',
    'server v1.2.3 running',
    'website down, see Tab. Co.',
    'blog by jane@smith.net', // an e-mail: the email recognizer owns it
    'site jsmith.net@mail.com',
    'take 1 tab @bedtime',
    'seen @home by RN',
    'mail jane@doe1931.com',
    'site a.b', // not a known TLD
  ])('ignores %s', (text) => expect(detectWith(urlRecognizer, text)).toEqual([]));
});

describe('ipRecognizer', () => {
  it.each([
    ['from 10.24.180.7 at login', '10.24.180.7'],
    ['gw fe80::1ff:fe23:4567:890a,', 'fe80::1ff:fe23:4567:890a'],
    ['v6 2001:db8::42 seen', '2001:db8::42'],
    // A sentence-final full stop must not block detection.
    ['client=2001:db8::ff00:42:8329.', '2001:db8::ff00:42:8329'],
    ['Login from 2001:db8::1.', '2001:db8::1'],
    ['Login from 2001:db8::1... then', '2001:db8::1'],
    ['from 10.24.180.7.', '10.24.180.7'],
    // Zero-padded octets, as some logs print them.
    ['192.168.001.010', '192.168.001.010'],
    ['host 010.000.000.001 seen', '010.000.000.001'],
  ])('finds %s', (text, want) => expect(detectWith(ipRecognizer, text)).toEqual([{ text: want, type: 'IP' }]));
  it.each(['version 1.2.3 released', 'at 10:30:45 pm', 'value 300.1.1.1', 'score 3.4.5.6.7',
    'at 10:30:45.', 'v 01.02.03.04', 'octet 192.168.001.256', 'at 12:30.', 'verse John 3:16.'])('ignores %s', (text) => expect(detectWith(ipRecognizer, text)).toEqual([]));
});

describe('phoneRecognizer', () => {
  it.each([
    ['call (612) 555-0187 today', '(612) 555-0187', 'PHONE'],
    ['cell 612.555.0187', '612.555.0187', 'PHONE'],
    ['+1 612-555-0187 x204', '+1 612-555-0187 x204', 'PHONE'],
    ['Fax: 612-555-0199', '612-555-0199', 'FAX'],
    ['phone 6125550187', '6125550187', 'PHONE'],
    ['tel +44 20 7946 0958', '+44 20 7946 0958', 'PHONE'],
  ])('finds %s', (text, want, type) => expect(detectWith(phoneRecognizer, text)).toEqual([{ text: want, type }]));
  it.each(['platelets 150-400', 'BP 120/80 HR 72', 'order 6125550187 shipped', 'ICD E11.9 and LOINC 4548-4'])('ignores %s', (text) =>
    expect(detectWith(phoneRecognizer, text)).toEqual([]),
  );
  it.each([
    ['mobile 07700 900123', '07700 900123', 'PHONE'],
    ['phone: +44 7700 900123', '+44 7700 900123', 'PHONE'],
    ['tel 020 7946 0958.', '020 7946 0958', 'PHONE'],
    ['call her on 0161 496 0000', '0161 496 0000', 'PHONE'],
    ['cell 07700900123', '07700900123', 'PHONE'],
    ['Fax 020 7946 0959', '020 7946 0959', 'FAX'],
  ])('finds UK-style %s', (text, want, type) => expect(detectWith(phoneRecognizer, text)).toContainEqual({ text: want, type }));
  it.each([
    'values 07700 900123 recorded', // no cue
    'ref 020 7946 0958',
    'ratio 01234 5678', // 9 digits
    'mobile 07700 900123456', // too many digits
    'code 0.0770 900123',
  ])('ignores UK-style shape without a cue or with the wrong length: %s', (text) =>
    expect(detectWith(phoneRecognizer, text).filter((f) => f.text.startsWith('0'))).toEqual([]),
  );
});
