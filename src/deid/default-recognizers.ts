import type { Recognizer } from './recognizer.js';
import { addressRecognizer } from './recognizers/address-recognizer.js';
import { ageRecognizer } from './recognizers/age-recognizer.js';
import { dateRecognizer } from './recognizers/date-recognizer.js';
import { deaRecognizer } from './recognizers/dea-recognizer.js';
import { emailRecognizer } from './recognizers/email-recognizer.js';
import { facilityRecognizer } from './recognizers/facility-recognizer.js';
import { initialsRecognizer } from './recognizers/initials-recognizer.js';
import { ipRecognizer } from './recognizers/ip-recognizer.js';
import { labelledIdRecognizer } from './recognizers/labelled-id-recognizer.js';
import { mixedCodeRecognizer } from './recognizers/mixed-code-recognizer.js';
import { nameRecognizer } from './recognizers/name-recognizer.js';
import { npiRecognizer } from './recognizers/npi-recognizer.js';
import { phoneRecognizer } from './recognizers/phone-recognizer.js';
import { placeRecognizer } from './recognizers/place-recognizer.js';
import { ssnRecognizer } from './recognizers/ssn-recognizer.js';
import { udiRecognizer } from './recognizers/udi-recognizer.js';
import { unlabelledIdRecognizer } from './recognizers/unlabelled-id-recognizer.js';
import { urlRecognizer } from './recognizers/url-recognizer.js';
import { vinRecognizer } from './recognizers/vin-recognizer.js';

/** The one code-defined registry: every recognizer the analyzer runs by default. */
export const DEFAULT_RECOGNIZERS: readonly Recognizer[] = [
  emailRecognizer,
  urlRecognizer,
  ipRecognizer,
  phoneRecognizer,
  ssnRecognizer,
  npiRecognizer,
  deaRecognizer,
  vinRecognizer,
  udiRecognizer,
  labelledIdRecognizer,
  unlabelledIdRecognizer,
  mixedCodeRecognizer,
  dateRecognizer,
  ageRecognizer,
  addressRecognizer,
  facilityRecognizer,
  placeRecognizer,
  nameRecognizer,
  initialsRecognizer,
];
