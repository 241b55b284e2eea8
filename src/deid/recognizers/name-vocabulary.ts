import type { DeidDictionaries } from '../dictionaries.js';
import { LEX_COMMON, LEX_FIRST_NAME, LEX_MAX_RANK, LEX_MEDICAL, lexRank, lexiconOf } from '../lexicon.js';
import type { Token } from '../tokenize.js';

/** Honorifics and titles that introduce a person's name. */
export const TITLES: ReadonlySet<string> = new Set([
  'dr', 'doctor', 'mr', 'mrs', 'ms', 'miss', 'mx', 'prof', 'professor', 'sr', 'sister', 'fr', 'father', 'rev',
  'nurse', 'judge', 'officer', 'capt', 'sgt', 'lt', 'col', 'pastor', 'rabbi', 'coach',
]);

/** Words after which the next capitalised words are a person's name. */
export const NAME_CUES =
  /(?:\b(?:patient|pt|name|patient name|pt name|attending|physician|provider|pcp|referring(?: physician| provider| md)?|surgeon|resident|fellow|intern|nurse|rn|np|cna|therapist|pharmacist|signed(?: by)?|electronically signed by|signed electronically by|note by|authored by|written by|dictated by|transcribed by|cosigned by|seen by|referred by|referred to|reviewed by|cc|dear|sincerely|regards|respectfully|thanks|thank you|contact|emergency contact|next of kin|nok|mother|mom|father|dad|spouse|wife|husband|son|daughter|sister|brother|partner|guardian|caregiver|friend|neighbor|neighbour|aunt|uncle|niece|nephew|grandson|granddaughter|grandmother|grandfather|cousin|named|called|guarantor|subscriber|insured|policyholder|member|from|to|attn|attention|interpreter|chaplain|sw|social worker|case manager|witness|informant|hi|hello)\b\s{0,3}[:,-]?\s{0,3})$/i;

/**
 * Relationship words after which a dictionary name is a name even when it is an everyday word
 * or lower case ("Daughter hope", "wife rose", "Wife is ana", "son-in-law Will").
 */
export const FAMILY_CUE_WORDS: ReadonlySet<string> = new Set(
  `wife husband daughter son son-in-law daughter-in-law mother father mother-in-law father-in-law sister brother
  sister-in-law brother-in-law spouse partner fiance fiancee grandson granddaughter stepson stepdaughter mom dad`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

/** Every word of NAME_CUES: a cheap gate, so the cue pattern runs only after one of them. */
export const NAME_CUE_WORDS: ReadonlySet<string> = new Set(NAME_CUES.source.match(/[a-z]+/g) ?? []);

/**
 * Proper nouns of medicine that are not patients: used only as eponyms in notes. A title or
 * label still makes one a name ("Dr. Foley").
 */
export const CURATED_EPONYMS: ReadonlySet<string> = new Set(
  `parkinson crohn foley apgar alzheimer hodgkin graves cushing addison hashimoto raynaud guillain barre epley babinski
  glasgow whipple nissen kussmaul cheyne mcburney homan homans romberg tinel phalen lachman gleason breslow braden ranson
  hickman kaposi wilms ewing burkitt lyme tourette asperger huntington marfan ehlers danlos klinefelter paget sjogren
  sjögren meniere bartholin brugada buerger chiari colles dupuytren ebstein fallot friedreich gaucher kawasaki korsakoff
  wernicke meckel munchausen osgood schlatter peyronie reye rett scheuermann willebrand waldenstrom wegener zenker
  zollinger hirschsprung horner penrose hemovac broviac groshong holter doppler heimlich trendelenburg valsalva rovsing
  kernig brudzinski chvostek trousseau pfannenstiel mcmurray finkelstein spurling virchow courvoisier karnofsky
  mallampati killip rankin barthel folstein ballard dubowitz alvarado centor friedewald cockcroft gault tenckhoff
  mediport pleurx coumadin tylenol motrin advil lasix zofran ativan haldol xanax norco percocet dilaudid keflex
  augmentin cipro levaquin flagyl protonix pepcid zantac lipitor crestor zocor plavix eliquis xarelto lovenox
  heparin insulin lantus humalog novolog januvia synthroid prednisone medrol decadron ventolin proair albuterol
  spiriva advair symbicort flovent singulair zyrtec claritin benadryl ambien seroquel zoloft prozac lexapro
  celexa wellbutrin effexor cymbalta lyrica neurontin gabapentin keppra dilantin depakote lamictal tegretol
  swan-ganz ganz stevens-johnson jackson-pratt guillain-barre wolff-parkinson-white creutzfeldt-jakob
  medicare medicaid tricare humana aetna cigna anthem kaiser blue cross shield epic cerner covid sars omicron`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

/** Words that, right after a capitalised word, make it an eponym or product: "Foley catheter". */
export const EPONYM_FOLLOWERS: ReadonlySet<string> = new Set(
  `disease syndrome sign signs test tests score scale catheter maneuver manoeuvre reflex palsy phenomenon
  criteria classification fracture procedure operation repair stage staging grade tube bag drain triad disorder
  lymphoma sarcoma tumor tumour node nodes ulcer sphincter duct cell cells ratio formula technique incision
  retractor forceps hernia block angle sheath deformity anemia anaemia thyroiditis encephalopathy virus shunt
  needle stockings pump mask filter protocol questionnaire equation splint brace cast boot collar fundoplication
  contracture cyst canal nerve artery vein ligament membrane gland glands esophagus lesion spots nodule nodules
  murmur respirations breathing ataxia aphasia tremor chorea dementia dystrophy anomaly tetralogy tetrad coma
  scale's`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

/** "Parkinson's disease", "Foley catheter": token i is an eponym by the word after it. */
export function eponymUse(text: string, tokens: readonly Token[], i: number): boolean {
  const t = tokens[i];
  const next = tokens[i + 1];
  if (t === undefined || next === undefined || !EPONYM_FOLLOWERS.has(next.key)) return false;
  return /^(?:['’]s?)?[ \t-]{1,2}$/.test(text.slice(t.end, next.start));
}

const PARTICLES: ReadonlySet<string> = new Set(['van', 'von', 'de', 'del', 'della', 'da', 'di', 'du', 'la', 'le', 'der', 'den', 'bin', 'ibn', 'al', 'el', 'st', 'mac', 'ter']);

export function isParticle(token: Token): boolean {
  return PARTICLES.has(token.key) && !token.capitalized;
}

/** A single upper-case letter: an initial ("J." / "J"). */
export function isInitial(token: Token): boolean {
  return token.text.length === 1 && token.capitalized;
}

/** "Mary-Kate" is a first name when "mary" is; hyphenated and apostrophe forms are looked up too. */
export function isFirstName(token: Token, d: DeidDictionaries): boolean {
  if ((lexiconOf(token, d.lexicon) & LEX_FIRST_NAME) !== 0) return true;
  const dash = token.key.indexOf('-');
  return dash > 0 && d.firstNames.has(token.key.slice(0, dash));
}

export function surnameRank(token: Token, d: DeidDictionaries): number | undefined {
  const rank = lexRank(lexiconOf(token, d.lexicon));
  if (rank !== 0 && rank !== LEX_MAX_RANK) return rank;
  if (rank === LEX_MAX_RANK) return d.surnames.get(token.key);
  return token.key.includes("'") || token.key.includes('-') ? lookUpSurnameRank(token, d) : undefined;
}

/**
 * True when the word has an everyday or clinical meaning, so needs context to be a name. The
 * ICD-10-CM eponym list is not used here: it holds common surnames ("Smith" of Smith's fracture);
 * an eponym is recognised by the word after it instead (EPONYM_FOLLOWERS).
 */
export function isAmbiguous(token: Token, d: DeidDictionaries): boolean {
  const k = token.key;
  if ((lexiconOf(token, d.lexicon) & (LEX_COMMON | LEX_MEDICAL)) !== 0 || CURATED_EPONYMS.has(k) || k.length < 2) return true;
  // "Swan-Ganz": a hyphenated word is an eponym when one part is.
  return k.includes('-') && k.split('-').some((part) => CURATED_EPONYMS.has(part));
}

function lookUpSurnameRank(token: Token, d: DeidDictionaries): number | undefined {
  const direct = d.surnames.get(token.key);
  if (direct !== undefined) return direct;
  if (token.key.includes("'")) {
    const joined = d.surnames.get(token.key.replace(/'/g, ''));
    if (joined !== undefined) return joined;
  }
  const dash = token.key.indexOf('-');
  return dash > 0 ? d.surnames.get(token.key.slice(0, dash)) : undefined;
}
