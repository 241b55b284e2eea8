/**
 * English words that are also given names or surnames (Hope, Will, Rose, Young, Hill, Brown...)
 * plus function words and clinical-note vocabulary that name lists happen to contain. A word here
 * is a name only with context (a title, a label, a neighbouring name), never on a dictionary hit
 * alone. Kept in code, not data: it is part of the recognizer's logic and reviewed with it.
 */
const WORDS = `
a about above across act add after again against age ago ahead aid air all  alone along also am among an and angel
any apple april are area arm art as ash at august autumn away baby back bad bank banks barber bay be bear beard bed bell
belle best better big bill bird black blanch bliss blue  bond bone born boss both bowl box boy brain branch brand bread
bright brook brooks brown buck bud bush but by call calm camp can cane cap car card care carry case cash castle cat center
chance change chase cherry chief child christian church clay clear cliff close cloud coach  colt cook cool copper
corner cotton could count court  crane cross crown  cure cyan dale dash date dawn day dean dear deep den desire
diamond did  do doctor does dollar don done dot dove down drew drive duke during dusty each earl early east easy
eden edge eight else ember end ernest ever every faith fall far farmer fast father few field fields fine fish fisher
five flower flowers for ford forest fortune fox frank free friend from frost fuller gale garden gay gem gene general
gift glad glass glen glory gold golden good goodman grace grand grant gray green grey guy hale hall hand happy hard
harmony hart has have haven hay he head heart heath her here hero high hill hills his holly home honey hope house how
hunt hunter i if in iris is it its ivy jack jade jay jewel joy june just kind king knight lake lamb land lane large
last late law lawn leaf  left lemon less letter liberty light like lily lime little long lord love low lucky lyric
made main major man march mark marsh mason may me meadow mercy merry middle might miles mill miller mint miss mister
moon more morning most mother mount much must my  near new newman next nice night nine no noble none north not
now nurse oak ocean of off old olive on one only or orange other our out over page palm paris park parks patient
peace pearl penny people pepper pierce pine pink plain poor pope porter post power pray precious price prince pure
queen rain rainbow ray read ready real red reed rich ridge right ring river road robin rock rocky rose  royal ruby
sage saint sale salt same sand savage say school  sea season see sergeant set seven shade shadow sharp  she
shepherd short should sierra silver sky slate small smart snow so some son  sparks spring sky star steel sterling
still stone storm story street strong such summer sun sunny sunshine swan sweet tall  temple ten than that the
their them then there these they thing this thorn those three tiger to today  top true trust truth two under unity
up us vale valley van venus very view vine violet wade walker wall ward warren was water waters watt way we weather
well wells west white who why wild will willow wind winter wise with wolf wood woods word work worth would wren yale
 year yet you young your
monday tuesday wednesday thursday friday saturday sunday january february april july august september october november december
english spanish french german italian russian chinese hispanic latino latina asian african american caucasian
native indian arabic portuguese vietnamese korean japanese filipino haitian creole
na k cl ca mg cr bun hb hgb hct plt wbc rbc inr ptt alt ast alp ggt ldh tsh ck bnp ph po iv im sq prn
daily dose doses drug drugs labs lab note notes plan plans pain rest fever chest room floor unit bed ward clinic
history exam home follow reports reported denies denied states stated given started stop stopped left right normal
`;

export const COMMON_WORDS: ReadonlySet<string> = new Set(WORDS.split(/\s+/).filter((w) => w.length > 0));
