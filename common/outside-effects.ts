/**
 * Effects outside the workspace: a message sent, a meeting booked, a purchase made, a record changed in another
 * system (an issue, a ticket, a row). None of tandem's built-in tools can have one (they read, list and write workspace
 * files, compute, and GET a URL), so only a successful call of a tool made for it (an MCP tool whose name says so) is
 * evidence that it happened. A text can claim one ("the email was sent") or ask for one ("Send an email to alice@…"):
 * common/claims.ts reads the claims, workflows/planner/honest-verdict.ts holds a subtask to what its goal asks.
 *
 * Agents that narrate a mutation they never made are a known kind (an e-mail agent reporting messages archived, a
 * draft created, an issue filed, with no tool call behind it); this module is the words for that kind. A heuristic
 * over English, Japanese, Spanish, French, German and Russian, not language understanding: docs/checks.md lists its
 * limits. Pure and sandbox-safe: the planner workflow runs it.
 */
import { namedFiles } from './checks';
import type { ToolCallRecord } from './types';

export type OutsideEffectKind = 'message_sent' | 'event_scheduled' | 'purchase_made' | 'record_changed';

/** The words and tools of one outside effect. */
interface OutsideEffect {
  /** A past tense saying it happened ("sent", "booked"). */
  done: RegExp;
  /** What it acts on ("email", "meeting"); a text naming neither verb's object claims or asks nothing. */
  object: RegExp;
  /**
   * Past tenses whose object is the person after them ("told Alice", "emailed the team", "invited Bob"); a request
   * sent to a site ("sent a GET request to Example.com") is the built-in http tool's, no message.
   */
  doneTo?: RegExp;
  /** Past tenses that claim it with no object ("Bob has been informed", "連絡しました"). */
  doneAlone?: RegExp;
  /** An English imperative asking for it, at the start of a clause; its object follows it. */
  asked: RegExp;
  /** An imperative of the other languages, anywhere in a clause: its object may come before it. */
  abroad?: RegExp;
  /** Words of the names of tools that can have it. */
  tools: RegExp;
  /** The effect as a reason says it happened ("a message was sent") and asks for it ("a message be sent"). */
  happened: string;
  wanted: string;
  /** The tool that can have it ("tool that sends e-mail or messages"), and the whole name the report gives it. */
  tool: string;
  missingTool: string;
}

/** An e-mail address: a message's object even with no noun ("Email alice@example.com"). */
const ADDRESS = /[\w.+-]+@[\w-]+\.[\w.]+/u;
/** Places messages are posted to. */
const CHANNEL =
  /\b(?:slack|teams|discord|telegram|whatsapp|signal|twitter|mastodon|linkedin|facebook|channel|chat|forum)\b|(?<![\w#])#\p{L}[\w-]*/iu;

export const OUTSIDE_EFFECTS: Record<OutsideEffectKind, OutsideEffect> = {
  message_sent: {
    done: /\b(?:sent|e-?mailed|mailed|messaged|notified|texted|delivered|forwarded|posted|tweeted|replied|pinged|dm'?ed|informed|reminded)\b|送信し|送りました|送った|送信済|伝えました|通知しました|enviad[oa]|mandad[oa]|mand[ée]|envi[ée]|envoy[ée]|gesendet|geschickt|verschickt|benachrichtigt|отправ(?:ил|лен)|уведомил|сообщил/iu,
    object: new RegExp(
      `\\b(?:e-?mails?|mail|messages?|letter|sms|texts?|notifications?|invitations?|reminders?|replies|reply|tweets?|posts?|dms?)\\b|メール|メッセージ|correo|mensaje|courriel|nachricht|письмо|сообщение|почт[аеуы]|${ADDRESS.source}|${CHANNEL.source}`,
      'iu',
    ),
    doneTo:
      /\b(?:told|informed|notified|reminded|contacted|e-?mailed|messaged|texted|pinged|dm'?e?d|cc'?e?d|reached out to|got in touch with|replied to|wrote to|(?:sent|forwarded) (?!(?:\S+ ){0,2}(?:requests?|quer(?:y|ies)|prompts?)\b)(?:\S+ ){0,3}to|shared (?:\S+ ){0,3}with)\s+/giu,
    doneAlone:
      /\b(?:been|was|were) (?:notified|informed|told|e-?mailed|messaged|texted|contacted|pinged)\b|\blet \S+(?: \S+)? know\b|連絡しました/iu,
    asked:
      /^(?:send|e-?mail|mail|message|notify|text|sms|dm|ping|tweet|post|forward|reply|respond|inform|tell|remind|let|contact|get in touch with|reach out to|share|cc|write (?:to|back)|make sure|ensure|reply[ -]all)\b/iu,
    abroad:
      /(?<!\p{L})(?:envoyer|enviar|отправить|env[íi](?:a|e|ale)|m[áa]nda(?:le)?|notifica|av[íi]sa(?:le|les)?|escr[íi]bele|envoie|envoyez|notifie|pr[ée]vien[ts]|pr[ée]venez|informez|[ée]cris à|sende|senden sie|schick|schicke|schicken sie|schreib|schreibe|benachrichtige|informiere|отправь|отправьте|пошли|пошлите|сообщи|уведоми|напиши (?:письмо|сообщение))(?!\p{L})|送って|送信して|メールして|通知して|連絡して|伝えて/iu,
    tools: /send|mail|message|notify|sms|slack|post|chat|smtp|telegram|discord|tweet|teams|whatsapp/i,
    happened: 'a message was sent',
    wanted: 'a message be sent',
    tool: 'tool that sends e-mail or messages',
    missingTool: 'a tool that sends e-mail or messages (e.g. an MCP mail server)',
  },
  event_scheduled: {
    done: /\b(?:scheduled|booked|reserved|invited|rescheduled)\b|(?:added|put) (?:\S+ ){0,3}(?:to|in|on|into) (?:your|the|my|his|her|their) calendar|予約しました|予約済|登録しました|programad[oa]|reservad[oa]|agendad[oa]|planifi[ée]|r[ée]serv[ée]|programm[ée]|geplant|gebucht|reserviert|eingetragen|забронировал|запланировал|назначил/iu,
    object:
      /\b(?:meetings?|appointments?|events?|calls?|tables?|rooms?|flights?|hotels?|reservations?|calendar|slots?|invites?|invitations?|tickets?)\b|会議|予約|予定|ミーティング|reuni[oó]n|cita|mesa|vuelo|r[ée]union|rendez-vous|vol|termin|besprechung|tisch|flug|встреч|столик|рейс/iu,
    doneTo: /\binvited\s+/giu,
    doneAlone: /\brsvp'?e?d\b/iu,
    asked:
      /^(?:schedule|reschedule|book|reserve|invite|set up|arrange|add|put|block|cancel|move|rsvp|(?:sign|register|enroll) (?:me|us))\b/iu,
    abroad:
      /(?<!\p{L})(?:reserva|r[ée]serve|r[ée]servez|planifie|buche|reserviere|vereinbare|забронируй|запланируй|назначь)(?!\p{L})|(?<!\p{L})(?:agenda|programa|programme|plane)(?=\s+(?:una?|el|la|los|las|me|nos|une?|le|les|ein|eine|einen|den|die|das|mir|uns)\s)|予約して|予定を入れて|登録して/iu,
    tools: /calendar|schedul|event|book|reserv|invite|meeting|appointment/i,
    happened: 'a meeting or booking was made',
    wanted: 'a meeting or booking be made',
    tool: 'tool that schedules or books',
    missingTool: 'a tool that schedules or books (e.g. an MCP calendar server)',
  },
  purchase_made: {
    done: /\b(?:purchased|bought|paid|placed (?:an|the|your) order|ordered (?:a|an|some|one|two|three|\d+|new|more|another)|order (?:has been|was|is) placed)\b|\b(?:transferred|sent|wired|donated) [$€£¥]\s?\d|購入しました|注文しました|compr[ée]|pagu[ée]|achet[ée]|pay[ée]|gekauft|bestellt|bezahlt|купил|заказал|оплатил/iu,
    // Whatever is bought is the object: the verbs alone are specific enough.
    object: /\S/u,
    asked:
      /^(?:buy|purchase|pay(?: for)?|order (?:a|an|me|us|some|one|two|three|\d+|new|more|another|extra|fresh)|check out|(?:transfer|send|wire|donate|tip|give) [$€£¥]\s?\d)/iu,
    abroad:
      /(?<!\p{L})(?:compra|c[óo]mprame|paga|pide|ach[èe]te|commande|payez|paie|kauf|kaufe|bestelle|bezahle|купи|закажи|оплати)(?!\p{L})|買って|購入して|注文して/iu,
    tools: /order|buy|purchase|pay|checkout|cart|shop|stripe/i,
    happened: 'a purchase was made',
    wanted: 'a purchase be made',
    tool: 'tool that orders or pays',
    missingTool: 'a tool that orders or pays (e.g. an MCP shop or payment server)',
  },
  record_changed: {
    done: /\b(?:created|opened|filed|submitted|raised|updated|closed|deleted|archived|starred|trashed|merged|assigned|labell?ed|commented on|uploaded|pushed|published|marked (?:\S+ ){0,4}as (?:read|unread|done|spam))\b/iu,
    object:
      /\b(?:issues?|tickets?|pull requests?|PRs?|merge requests?|bug reports?|jira|github|gitlab|trello|notion|asana|linear|crm|salesforce|hubspot|database|spreadsheet|google sheets?|google drive|dropbox|onedrive|s3|mailing lists?|rows?|records?|cards?|inbox|e-?mails?|messages?)\b/iu,
    asked:
      /^(?:create|open|file|submit|raise|update|edit|close|delete|remove|archive|star|trash|mark|add|comment on|assign|merge|label|unsubscribe|upload|push|publish)\b/iu,
    tools:
      /issue|ticket|pull|jira|github|gitlab|trello|notion|asana|linear|record|row|sheet|database|sql|crm|archive|label|star/i,
    happened: 'a record outside the workspace was changed',
    wanted: 'a record outside the workspace be changed',
    tool: 'tool that changes records outside the workspace',
    missingTool: 'a tool that changes records outside the workspace (e.g. an MCP server for the tracker or database)',
  },
};

export const OUTSIDE_EFFECT_KINDS = Object.keys(OUTSIDE_EFFECTS) as OutsideEffectKind[];

/** Words of negation; the other languages' are bounded by letters, not `\b` (ASCII-only): "pasó" is no "pas". */
const NEGATION =
  /\b(?:not|never|no|nobody|none|unable|cannot|can't|couldn't|didn't|wasn't|isn't|failed|without|nothing)\b|n't\b|ません|できな|失敗|(?<!\p{L})(?:pas|nicht|non)(?!\p{L})|(?<!\p{L})kein|(?<![\p{L}])не\s/iu;

/**
 * Sentences of a text: split at . ! ? 。 ！ ？ and line breaks (a file name's dot is kept: it has no space after, and
 * so is a number sign's: "invoice no. 12").
 */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])(?<!\b[Nn]o\.)\s+|[。！？\n]+/u)
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Whether a sentence is negated ("the email was not sent", "don't send it"): it then claims or asks nothing. */
export function negated(sentence: string): boolean {
  return NEGATION.test(sentence);
}

/** Quoted text is the content asked for ('Write "send the email" to a.txt'), never an ask of its own (see `masked`). */
const QUOTED = /"[^"]*"|“[^”]*”|'[^']*'(?!\w)|「[^」]*」|«[^»]*»|„[^“”]*[“”]/gu;
/** Words that ask politely or remind before the verb: "please send", "can you send", "don't forget to send". */
const LEAD_IN =
  /^(?:(?:and|then|also|now|finally|first|next|afterwards|after that|please|kindly|just|lastly)\b[\s,]*|(?:can|could|would|will) you (?:please )?|(?:peux|pourrais)-tu |(?:pouvez|pourriez)-vous |(?:puedes|podr[íi]as) |i (?:want|need|would like|'d like) you to |make sure (?:to|you) |be sure to |remember to |(?:don't|do not) forget to |(?:it|that) (?:is|'s) time to )/iu;
/**
 * Clause boundaries inside a sentence, captured: a joiner of actions ("and", "then", ";", ", then") or a mere comma or
 * colon, which in a sentence that writes something joins items of what it writes.
 */
const CLAUSE_BREAK =
  /(\s*;\s*(?:and\s+|then\s+)?|\s*,\s*(?:and\s+|then\s+)|\s+and\s+(?:then\s+)?|\s+then\s+|\s*[,:]\s*)/iu;
/**
 * A clause that writes content (to a file, a list): "write a todo list to todo.txt: buy milk, email Bob" asks for a
 * file, and its items after a comma or a colon are its content, not asks of their own.
 */
const WRITES_CONTENT = /^(?:write|save|create|make|draft|compose|jot|note|list|add|append|put|record|prepare)\b/iu;
/** A clause that names a list ("my todo list: email Bob, buy milk"): its items are content too. */
const LIST_HEAD = /^(?:(?:my|our|your|the|a|today's)\s+)?(?:[\w-]+\s+)?(?:list|to-?dos?|checklist|tasks|reminders)$/iu;
/** A question of how or why ("wie sende ich eine E-Mail?", "как отправить письмо?"): a how-to, not an ask. */
const QUESTION =
  /^(?:how|why|what|which|wie|warum|was|comment(?!\s+on\b)|pourquoi|c[óo]mo|por qu[ée]|qu[ée]|как|почему|что|зачем)(?!\p{L})/iu;

/**
 * The clauses of a sentence that may ask for something, each with its polite lead-in taken off ("please send …" →
 * "send …"): all of them, but for the items of what a writing clause writes (see `WRITES_CONTENT`).
 */
function clauses(sentence: string): string[] {
  const parts = sentence.split(CLAUSE_BREAK);
  const asking: string[] = [];
  let writing = false;
  for (let at = 0; at < parts.length; at += 2) {
    const clause = withoutLeadIn(parts[at]!);
    const joiner = at === 0 ? '' : parts[at - 1]!.trim();
    const item = joiner === ',' || joiner === ':';
    if (item && writing) continue;
    writing = WRITES_CONTENT.test(clause) || LIST_HEAD.test(clause);
    asking.push(clause);
  }
  return asking;
}

function withoutLeadIn(clause: string): string {
  let rest = clause.trim();
  for (let previous = ''; previous !== rest;) {
    previous = rest;
    rest = rest.replace(LEAD_IN, '').trim();
  }
  return rest;
}

/** Somebody other than the user, as a message's addressee: a name, a pronoun, a group. */
const PERSON =
  /(?:\p{Lu}\p{Ll}+(?!['’]s)|him|her|them|everyone|everybody|(?:the|our|my|his|her|their) (?:team|group|client|customer|boss|manager|staff|users|others|board|office|landlord|colleagues?|wife|husband|mother|father|friends?|family|teacher|doctor|accountant|lawyer|vendor|supplier))\b/u;
const THIRD_PARTY = new RegExp(`^(?:to\\s+)?${PERSON.source}`, 'u');
/** "… to Bob", "… with the team": the addressee after the object ("send the report to my manager"). */
const TO_PERSON = new RegExp(`\\b(?:to|with)\\s+${PERSON.source}`, 'u');
/** What somebody gets or learns when "make sure Bob gets the report", "… the team knows" asks for a message. */
const GETS =
  /^\s+(?:(?:gets?|receives?|has|sees)\s+(?:a|an|the|it|this|that|my|our|your|his|her|their)\b|(?:knows?|hears?|learns?)\b|is (?:told|informed|notified)\b)/iu;
/** A pronoun for what the sentence names before: "write an email to Alice and send it" (not "send it back to me"). */
const PRONOUN = /^(?:it|them|this|that)\b(?!.*\b(?:back|to (?:me|us))\b)/iu;
/** Verbs that name their effect whatever follows: "RSVP yes", "tweet the notes", "reply all", "sign me up". */
const OWN_OBJECT = /^(?:rsvp|tweet|unsubscribe|reply[ -]all|(?:sign|register|enroll) (?:me|us)\b)\b/iu;
/** Verbs of the other languages that tell a person ("dile a Juan", "sag Anna", "скажи Ивану"): a name follows. */
const TELL_ABROAD =
  /(?<!\p{L})(?:dile|d[íi]gale|d[íi]selo|av[íi]sale|dis|dites|pr[ée]viens|pr[ée]venez|sag|sagt|sagen sie|скажи|скажите|напиши|передай|передайте|сообщи|сообщите|informiere|informe|informez|[ée]cris)(?!\p{L})/iu;
/** A name, then what it is told ("que …", "dass …", "что …") or the end: "Dis Bonjour en français" is no ask. */
const NAME_NEXT =
  /^(?:\s*,)?\s+(?:(?:a|à|al|au|das|dem|den|die)\s+)?(?:\p{Lu}\p{Ll}+|команд[еыу]|коллегам)(?:\s*$|\s*,?\s*(?:que|qu['’]|dass|de|von|sobre|что|о|об)(?!\p{L}))/u;
/** Japanese "Xに…伝えて": somebody (not 私, me) is told. */
const TELL_JAPANESE = /(?<!私|僕|わたし|自分)に.*(?:伝えて|連絡して|知らせて)/u;
/** Verbs of the other languages that write: with a file named, what they write is the file's content. */
const WRITE_ABROAD = /напиши|escr[íi]b|[ée]cri|schreib/iu;
/** The user, as the addressee of a verb that can only mean a message ("email me", "text us"). */
const USER = /^(?:me|us)\b/iu;
/** Verbs whose object is a person: "tell me …" asks for the answer, "tell Alice …" for a message. */
const TELL = /^(?:tell|inform|remind|let)\b/iu;
/** Verbs that are a message whoever gets it: "email me", "text Bob". */
const MESSAGE_VERB = /^(?:e-?mail|mail|message|text|sms|dm|ping|notify|contact)\b/iu;
/** Verbs that add to a calendar only when it is named: "add the meeting to my calendar", not "add 10 to it". */
const CALENDAR_VERB = /^(?:add|put|block)\b/iu;
const CALENDAR = /calendar|agenda|カレンダー|calendario|calendrier|kalender|календар/iu;
/** Where a file's name stood (see `masked`): a record "in data.csv" is the workspace's, not another system's. */
const FILE_MARK = /\u27e8f\d+\u27e9/u;
/** How many words after the verb its object may be: "create a new GitHub issue", not "create a summary of … issues". */
const OBJECT_WORDS = 5;

/** The first words of `text`, where a verb's object is. */
function firstWords(text: string, count = OBJECT_WORDS): string {
  return text.trim().split(/\s+/u).slice(0, count).join(' ');
}

/**
 * Whether the ask whose verb ends at `end` is refused: a negation before the verb or in the two words after it ("don't
 * email", "send no email", "schicke Bob keine E-Mail"). One later is what the message says: "tell Bob I can't come".
 */
function refused(clause: string, end: number): boolean {
  // "Send invoice no. 12 to Bob": a number sign is no negation.
  const after = clause.slice(end).replace(/\bno\.\s?(?=\d)/giu, '#');
  return negated(`${clause.slice(0, end)} ${firstWords(after, 2)}`);
}

/** An effect a text asks for. */
export interface AskedEffect {
  kind: OutsideEffectKind;
  /** The sentence that asks, as written. */
  sentence: string;
}

/** Whether one clause (lead-in taken off) asks for `kind`. */
function asks(kind: OutsideEffectKind, clause: string, sentence: string): boolean {
  const effect = OUTSIDE_EFFECTS[kind];
  if (kind === 'message_sent' && (tellsAbroad(clause) || (TELL_JAPANESE.test(clause) && !negated(clause)))) return true;
  const verb = effect.asked.exec(clause) ?? effect.abroad?.exec(clause);
  if (!verb || refused(clause, verb.index + verb[0].length)) return false;
  if (OWN_OBJECT.test(clause)) return true;
  const english = effect.asked.test(clause);
  const rest = clause.slice(verb.index + verb[0].length).trim();
  const object = english ? firstWords(rest) : clause;
  const inFile = FILE_MARK.test(clause);
  switch (kind) {
    case 'message_sent':
      if (WRITE_ABROAD.test(verb[0]) && inFile) return false;
      if (ADDRESS.test(rest) || CHANNEL.test(rest)) return true;
      if (!english) return effect.object.test(clause);
      if (/^(?:make sure|ensure)\b/iu.test(clause)) {
        const who = THIRD_PARTY.exec(rest);
        return who !== null && GETS.test(rest.slice(who[0].length));
      }
      if (TELL.test(clause)) return THIRD_PARTY.test(rest);
      if (MESSAGE_VERB.test(clause)) {
        return THIRD_PARTY.test(rest) || TO_PERSON.test(rest) || USER.test(rest) || effect.object.test(object);
      }
      if (/^share\b/iu.test(clause)) return TO_PERSON.test(rest);
      return (
        effect.object.test(object) ||
        TO_PERSON.test(rest) ||
        THIRD_PARTY.test(rest) ||
        (PRONOUN.test(rest) && effect.object.test(sentence))
      );
    case 'event_scheduled':
      if (english && CALENDAR_VERB.test(clause)) return CALENDAR.test(rest);
      // "Move the meeting notes to notes.md" moves a file.
      if (/^move\b/iu.test(clause)) return effect.object.test(object) && !inFile;
      return effect.object.test(object) || (/^invite\b/iu.test(clause) && THIRD_PARTY.test(rest));
    case 'record_changed':
      // An uploaded file is the payload: "upload report.pdf to Google Drive" changes the drive.
      return (!inFile || /^upload\b/iu.test(clause)) && effect.object.test(object);
    case 'purchase_made':
      return true;
  }
}

/** Whether `clause` tells a named person in another language ("dile a Juan …", "Préviens Paul …"). */
function tellsAbroad(clause: string): boolean {
  const verb = TELL_ABROAD.exec(clause);
  if (verb === null) return false;
  const end = verb.index + verb[0].length;
  return NAME_NEXT.test(clause.slice(end)) && !refused(clause, end);
}

/**
 * The words by which `sentence` claims `kind` with a past tense whose object is a person ("told Alice", "the team was
 * notified"), if it does: the verb is the effect, no message word is needed.
 */
export function claimedToSomeone(kind: OutsideEffectKind, sentence: string): string | undefined {
  const { doneTo, doneAlone } = OUTSIDE_EFFECTS[kind];
  const alone = doneAlone?.exec(sentence);
  if (alone) return alone[0];
  const verb = [...sentence.matchAll(doneTo ?? /$^/gu)].find((found) =>
    THIRD_PARTY.test(sentence.slice(found.index + found[0].length)),
  );
  return verb?.[0].trim();
}

/** `text` with its file names and quoted texts masked as ⟨f0⟩, ⟨q1⟩…, and how to put them back. */
function masked(text: string): { text: string; unmask: (part: string) => string } {
  const held: string[] = [];
  const hold = (mark: 'f' | 'q') => (found: string) => {
    held.push(found);
    return `\u27e8${mark}${held.length - 1}\u27e9`;
  };
  const files = namedFiles(text).reduce((rest, file) => rest.split(file).join(hold('f')(file)), text.normalize('NFC'));
  return {
    text: files.replace(QUOTED, hold('q')),
    unmask: (part) => part.replace(/\u27e8[fq](\d+)\u27e9/gu, (_, at: string) => held[Number(at)]),
  };
}

/**
 * The outside effects `text` asks for (a goal, a subtask's instructions or milestone): an imperative of the effect
 * with its object, in a clause that is not negated and not inside quotes. "Send an email to alice@example.com" and
 * "please tell Alice the meeting moved" ask for a message; "Tell me its first line", "Write the word banana to
 * fruit.txt" and "Don't email anyone" ask for none. Files are the workspace's: their names are not objects here.
 */
export function askedEffects(text: string): AskedEffect[] {
  const asked: AskedEffect[] = [];
  const { text: plain, unmask } = masked(text);
  for (const sentence of sentences(plain)) {
    const kinds = new Set<OutsideEffectKind>();
    for (const clause of clauses(sentence)) {
      if (QUESTION.test(clause)) continue;
      for (const kind of OUTSIDE_EFFECT_KINDS) if (asks(kind, clause, sentence)) kinds.add(kind);
    }
    for (const kind of kinds) asked.push({ kind, sentence: unmask(sentence) });
  }
  return asked;
}

/** Whether `call` is a successful call of a tool that can have `kind`: only MCP tools (`server__tool`) can. */
export function hasEffect(call: ToolCallRecord, kind: OutsideEffectKind): boolean {
  return call.ok && call.name.includes('__') && OUTSIDE_EFFECTS[kind].tools.test(call.name);
}

/**
 * The tool to name as missing when no tool of `offered` can have `kind` (undefined when one can). `offered` absent
 * means the subtask may use every tool: MCP tools it was not told of are unknown here, so none is counted.
 */
export function missingToolFor(kind: OutsideEffectKind, offered: string[] | undefined): string | undefined {
  const able = (offered ?? []).some((name) => name.includes('__') && OUTSIDE_EFFECTS[kind].tools.test(name));
  return able ? undefined : OUTSIDE_EFFECTS[kind].missingTool;
}
