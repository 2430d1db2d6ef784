import { claimedEffects, unbackedClaims, type ClaimContext } from '../common/claims';
import { namedFiles } from '../common/checks';
import { expressionsIn } from '../common/expressions';
import { askedEffects } from '../common/outside-effects';
import type { Subtask, ToolCallRecord } from '../common/types';
import { unmetAsks, unmetAsksVerdict } from '../workflows/planner/honest-verdict';

const call = (name: string, args: Record<string, unknown>, ok = true): ToolCallRecord => ({
  step: 1,
  name,
  arguments: JSON.stringify(args),
  ok,
});
const context = (toolCalls: ToolCallRecord[], extra: Partial<ClaimContext> = {}): ClaimContext => ({
  toolCalls,
  observations: '',
  hasInputs: false,
  ...extra,
});
const kinds = (text: string) => claimedEffects(text).map((claim) => claim.kind);

describe('claims of an effect', () => {
  it.each([
    ['I read notes.txt and wrote a one-sentence summary to summary.txt.', ['file_written']],
    ['The email to alice@example.com telling her the meeting moved to 3pm was sent.', ['message_sent']],
    ['I computed 123 * 45 - 67 = 9336 and saved it to result.txt.', ['file_written', 'value_computed']],
    ['17 × 23 を計算して kekka.txtに保存しました。', ['file_written', 'value_computed']],
    ['He guardado el resultado en resultado.txt.', ['file_written']],
    ['J’ai enregistré le résultat dans résultat.txt.', ['file_written']],
    ['Ich habe die Datei ergebnis.txt gespeichert.', ['file_written']],
    ['Я сохранил результат в файл итог.txt.', ['file_written']],
    ['Письмо отправлено Алисе.', ['message_sent']],
    ['メールを送信しました。', ['message_sent']],
    ['Alice has been notified by email.', ['message_sent']],
    ['I have scheduled the meeting for 3pm.', ['event_scheduled']],
    ['I booked a table for two.', ['event_scheduled']],
    ['I purchased the book.', ['purchase_made']],
    ['I created GitHub issue #12 for the crash.', ['record_changed']],
    ['I archived the emails from Bob.', ['record_changed']],
    // A record in a workspace file is a file written, not another system's record.
    ['I updated the rows in data.csv.', []],
    ['I opened notes.txt and read it.', []],
    // A verb of the effect whose object is a person claims it with no message word.
    ['Done! I emailed Bob.', ['message_sent']],
    ['I told Alice the meeting moved.', ['message_sent']],
    ['I let Bob know the build passed.', ['message_sent']],
    ['The team was notified.', ['message_sent']],
    ['Bob has been informed.', ['message_sent']],
    ['I reached out to the landlord about the leak.', ['message_sent']],
    ['I sent it to Bob.', ['message_sent']],
    ['I shared the report with the team.', ['message_sent']],
    ["I cc'd Alice on the thread.", ['message_sent']],
    ['ボブに連絡しました。', ['message_sent']],
    ['He enviado el correo a Juan.', ['message_sent']],
    ['Le mandé un mensaje a Juan.', ['message_sent']],
    ['I invited Alice and Bob to the review.', ['event_scheduled']],
    ['I put the dentist appointment in your calendar.', ['event_scheduled']],
    ["I've RSVP'd yes to the party.", ['event_scheduled']],
    ['I ordered a pizza.', ['purchase_made']],
    ['Your order has been placed.', ['purchase_made']],
    ['I commented on the GitHub issue.', ['record_changed']],
    ['Pushed the fix to GitHub.', ['record_changed']],
    ['Transferred $50 to Bob.', ['purchase_made']],
    ['I marked the emails from Bob as read.', ['record_changed']],
    // Offers, advice, drafts and third persons in a file's words claim no effect.
    ['I ordered the lines of names.txt alphabetically.', []],
    ['As I told you, the answer is 42.', []],
    ['Let Bob decide.', []],
    // Tandem's answers speak of tool calls: "set up" and "cancelled" are no booking's words.
    ['The tool call was cancelled after 30 s.', []],
    ['I set up the calculator call for 17 * 23.', []],
    ['I sent a GET request to Example.com and read the page.', []],
    ['I let the script run for 10 seconds.', []],
    ['You should tell Alice the meeting moved.', []],
    ['If you want, I can book the table.', []],
    ['Here is a draft email to Bob: Hi Bob, the build passed.', []],
    ['I saved a draft of the email in draft.txt.', ['file_written']],
    ['To send an email, use the smtplib module.', []],
    ['I have no tool to send email; here is a draft.', []],
    // Negations and plain answers claim nothing.
    ['I could not write summary.txt: the tool failed.', []],
    ['The email was not sent: there is no mail tool.', []],
    ['The first line of notes.txt is "hello".', []],
    ['The answer is 395.', []],
  ])('%s → %j', (text, expected) => {
    expect(kinds(text)).toEqual(expected);
  });

  it('takes a sentence quoted from a tool output as data, not as a claim', () => {
    const observations = 'read_file notes.txt → "The email was sent to Bob on Monday."';
    expect(claimedEffects('The notes say the email was sent to Bob on Monday.', observations)).toEqual([]);
    const chat = 'read_file chat.txt → "Alice told Bob about the meeting."';
    expect(claimedEffects('In chat.txt, Alice told Bob about the meeting.', chat)).toEqual([]);
  });
});

describe('claims need a successful tool call of the subtask', () => {
  it('a file claimed written needs a successful write_file of that file', () => {
    const text = 'I wrote the summary to summary.txt.';
    expect(unbackedClaims(text, context([]))).toHaveLength(1);
    expect(
      unbackedClaims(text, context([call('write_file', { path: 'summary.txt', content: 'x' }, false)])),
    ).toHaveLength(1);
    expect(unbackedClaims(text, context([call('write_file', { path: 'other.txt', content: 'x' })]))).toHaveLength(1);
    expect(unbackedClaims(text, context([call('write_file', { path: './summary.txt', content: 'x' })]))).toEqual([]);
  });

  it('compares file names in Unicode NFC', () => {
    const nfd = 'résumé.txt'.normalize('NFD');
    expect(unbackedClaims('I saved résumé.txt.', context([call('write_file', { path: nfd, content: 'x' })]))).toEqual(
      [],
    );
  });

  it('a message claimed sent with no tool that sends names the missing tool', () => {
    const [claim] = unbackedClaims('The email was sent to alice@example.com.', context([]));
    expect(claim.missingTool).toMatch(/sends e-mail/);
    const offered = { offeredTools: ['read_file', 'mail__send_email'] };
    const [withTool] = unbackedClaims('The email was sent.', context([], offered));
    expect(withTool.missingTool).toBeUndefined();
    expect(unbackedClaims('The email was sent.', context([call('mail__send_email', { to: 'a' })], offered))).toEqual(
      [],
    );
  });

  it('a value claimed computed needs a calculator call, unless it came from an earlier subtask', () => {
    const text = 'I calculated the total: 5468.';
    expect(unbackedClaims(text, context([]))).toHaveLength(1);
    expect(unbackedClaims(text, context([call('calculator', { expression: '123*45-67' })]))).toEqual([]);
    expect(unbackedClaims(text, context([], { hasInputs: true }))).toEqual([]);
  });
});

describe('file names and expressions in a goal', () => {
  it.each([
    ['Read notes.txt and write a summary of it to summary.txt', ['notes.txt', 'summary.txt']],
    ['17 × 23 を計算して kekka.txtに保存して', ['kekka.txt']],
    ['メモ.txt を読んで「結果 一覧.txt」に書いて', ['メモ.txt', '結果 一覧.txt']],
    ['write "my notes.md" and résumé.txt and отчёт.md', ['my notes.md', 'résumé.txt', 'отчёт.md']],
    ['fetch example.com and tell a@b.json', []],
  ])('%s names %j', (text, files) => {
    expect(namedFiles(text)).toEqual(files);
  });

  it.each([
    ['Compute 17 * 23 + 4 and save the result to answer.txt', ['17*23+4']],
    ['１７ × ２３ を計算して kekka.txt に保存して', ['17*23']],
    ['what is (2+3)*4? and 10 ÷ 4?', ['(2+3)*4', '10/4']],
    ['On 2026-12-02 read v1-2.txt, version 1.2.3', []],
  ])('%s writes %j', (text, expressions) => {
    expect(expressionsIn(text)).toEqual(expressions);
  });
});

describe('outside effects a text asks for', () => {
  const asked = (text: string) => askedEffects(text).map((ask) => ask.kind);
  it.each([
    ['Send an email to alice@example.com telling her the meeting moved to 3pm', ['message_sent']],
    ['Email alice@example.com that the meeting moved', ['message_sent']],
    ['Tell Alice the meeting moved', ['message_sent']],
    ['Please let Bob know the build passed', ['message_sent']],
    ['Text Bob that I am late', ['message_sent']],
    ['Notify the team on Slack that the deploy finished', ['message_sent']],
    ["Post 'release done' to the #general channel", ['message_sent']],
    ['Read notes.txt and email a summary of it to bob@example.com', ['message_sent']],
    ['Summarise notes.txt and send it to Bob', ['message_sent']],
    ['Can you send a message to Carol saying hi?', ['message_sent']],
    ["Don't forget to email me the report", ['message_sent']],
    ['Schedule a meeting with Alice tomorrow at 3pm', ['event_scheduled']],
    ['Book a table for two at 7pm', ['event_scheduled']],
    ['Add the team meeting to my calendar', ['event_scheduled']],
    ['Buy a copy of Dune', ['purchase_made']],
    ['Order a pizza for lunch', ['purchase_made']],
    ['Create a GitHub issue titled "crash on start"', ['record_changed']],
    ['Open a ticket in Jira for the login bug', ['record_changed']],
    ['Archive all emails from Bob', ['record_changed']],
    ['alice@example.com にメールを送ってください', ['message_sent']],
    ['Envía un correo a alice@example.com diciendo que la reunión es a las 3', ['message_sent']],
    ['Envoie un e-mail à alice@example.com', ['message_sent']],
    ['Schicke Bob eine Nachricht, dass das Meeting um 15 Uhr ist', ['message_sent']],
    ['Отправь письмо Алисе о встрече', ['message_sent']],
    // Everyday asks phrased otherwise: an addressee after the object, a person that gets something, a pronoun.
    ['Make sure Bob gets the report by email', ['message_sent']],
    ['Make sure Bob gets a copy of summary.txt', ['message_sent']],
    ['Let the team know the build is green', ['message_sent']],
    ['Ping Alice about the review', ['message_sent']],
    ['DM Carol the link', ['message_sent']],
    ['Reply to Bob saying I agree', ['message_sent']],
    ['Forward the invoice to accounting@example.com', ['message_sent']],
    ['Forward this to Dana', ['message_sent']],
    ['Email the report to Bob, cc alice@example.com', ['message_sent']],
    ['Send Bob the file', ['message_sent']],
    ['Send the report to my manager', ['message_sent']],
    ['Send the invoice to the client', ['message_sent']],
    ['Read notes.txt. Then email the action items to the team.', ['message_sent']],
    ['Summarize report.md and post it in #general', ['message_sent']],
    ['Write the summary to summary.txt and share it with the team on Slack', ['message_sent']],
    ['Share the report with Bob', ['message_sent']],
    ['Get in touch with the landlord about the leak', ['message_sent']],
    ['Respond to the customer complaint', ['message_sent']],
    ['Please write an email to Alice and send it', ['message_sent']],
    ['Hey, could you send a quick note to Dave that I am running late?', ['message_sent']],
    ['Tweet the release notes', ['message_sent']],
    ['Read the tasks: then email Bob the result', ['message_sent']],
    ['RSVP yes to the party on Friday', ['event_scheduled']],
    ['Could you please book me a flight to Paris?', ['event_scheduled']],
    ['Invite Alice and Bob to the review on Thursday', ['event_scheduled']],
    ['Move my 3pm meeting to 4pm', ['event_scheduled']],
    ['Cancel my 3pm meeting', ['event_scheduled']],
    ['Order new printer ink', ['purchase_made']],
    ['Pay the electricity bill', ['purchase_made']],
    ['Comment on the GitHub issue about the crash', ['record_changed']],
    ['Mark all emails from Bob as read', ['record_changed']],
    ['Unsubscribe me from the newsletter', ['record_changed']],
    ['チームに結果を連絡してください', ['message_sent']],
    ['田中さんに会議の時間を伝えてください', ['message_sent']],
    ['明日の3時に会議を予約してください', ['event_scheduled']],
    ['Dile a Juan que llego tarde', ['message_sent']],
    ['Avísale a Juan que la reunión se movió', ['message_sent']],
    ['Reserva una mesa para dos a las 8', ['event_scheduled']],
    ['Dis à Paul que la réunion est annulée', ['message_sent']],
    ['Préviens Paul que je serai en retard', ['message_sent']],
    ['Peux-tu envoyer un courriel à Paul ?', ['message_sent']],
    ['Sag Anna, dass das Meeting verschoben ist', ['message_sent']],
    ['Schreib Anna eine E-Mail', ['message_sent']],
    ['Buche einen Tisch für zwei', ['event_scheduled']],
    ['Скажи Ивану, что встреча перенесена', ['message_sent']],
    ['Напиши Ивану, что я опоздаю', ['message_sent']],
    ['Забронируй столик на двоих', ['event_scheduled']],
    ['Make sure the team knows about the outage', ['message_sent']],
    ['Reply all with the summary', ['message_sent']],
    ['Block 2 hours on my calendar tomorrow', ['event_scheduled']],
    ['Sign me up for the yoga class on Monday', ['event_scheduled']],
    ['Transfer $50 to Bob', ['purchase_made']],
    ['Donate $10 to the Red Cross', ['purchase_made']],
    // Money sent to a person reads as a message too: either way the goal needs a tool.
    ['Send $20 to Bob for dinner', ['message_sent', 'purchase_made']],
    ['Upload report.pdf to Google Drive', ['record_changed']],
    ['Push the changes to GitHub', ['record_changed']],
    ['Add Bob to the mailing list', ['record_changed']],
    [
      'Summarize notes.txt. Email the summary to bob@example.com. Then book a room for the review.',
      ['message_sent', 'event_scheduled'],
    ],
    [
      'I need this done today: read the invoice in invoice.txt, pay it, and tell Dana it is paid.',
      ['purchase_made', 'message_sent'],
    ],
    ['Alice needs the numbers from data.csv by noon. Email them to her.', ['message_sent']],
    ['Envoie le résumé à Paul par e-mail', ['message_sent']],
    ['Manda el resumen a Juan por correo', ['message_sent']],
    ['Отправь Ивану сводку по почте', ['message_sent']],
    ['Bitte informiere das Team, dass der Build grün ist', ['message_sent']],
    ['Сообщи команде, что сборка прошла', ['message_sent']],
    // "pasó" holds no French "pas": the sentence is not negated.
    ['Informe a Juan que el build pasó', ['message_sent']],
    ['Écris à Paul que le build est vert', ['message_sent']],
    // A negation after the verb and its next two words is what the message says, not a refusal of it.
    ["Tell Bob I can't make it tonight", ['message_sent']],
    ["Text Bob that I won't be home for dinner", ['message_sent']],
    ['Let the team know the build did not fail', ['message_sent']],
    ['Email Bob the summary without the appendix', ['message_sent']],
    ['Reply to Bob that I cannot attend', ['message_sent']],
    ['Send invoice no. 12 to Bob', ['message_sent']],
    ['Envoie un e-mail à Paul pour dire que je ne viens pas', ['message_sent']],
    ['Dile a Juan que no voy', ['message_sent']],
    ['Скажи Ивану, что я не приду', ['message_sent']],
    ['ボブに行けないと伝えて', ['message_sent']],
    // Work on the workspace, answers to the user, quoted content, negations and how-tos ask for nothing outside.
    ['Compute 17 * 23 + 4 and save the result to answer.txt', []],
    ['Read the file missing.txt and tell me its first line', []],
    ['Tell me what Alice said in notes.txt', []],
    ['Read the number in start.txt, add 10 to it with the calculator, and write the sum to sum.txt', []],
    ['Write the exact text "send an email to bob" to todo.txt', []],
    ['Draft an email to Alice about the meeting and save it to draft.txt', []],
    ["Don't email anyone; just write the summary to summary.txt", []],
    ['Explain how to send an email with Python', []],
    ['Write a script that sends emails and save it to mailer.py', []],
    ['Create a summary of the open issues in issues.md', []],
    ['Add a row for Bob to people.csv', []],
    ['Order the lines of names.txt alphabetically', []],
    ['Post the file list to result.txt', []],
    ['Send me the answer', []],
    ['Remind me to call mom', []],
    ['Send no email to Bob', []],
    ['Email no one', []],
    ['Notify nobody', []],
    ['Schicke Bob keine E-Mail', []],
    ['No envíes el correo a Juan', []],
    ['Не отправляй письмо Ивану', []],
    ['Write a list of people to email to people.txt', []],
    ['Who should I email about this?', []],
    ['Summarize what Bob sent me in inbox.txt', []],
    ['Read the booking confirmation in booking.txt and tell me the date', []],
    ["Don't send it yet; save it to draft.txt", []],
    ['Help me write an email to Bob', []],
    ['What should I tell Alice?', []],
    ['Send the calculator result to result.txt', []],
    ['Write an email template to template.txt that says the meeting moved', []],
    ['Count how many emails Bob sent in inbox.csv', []],
    ['Book review of Dune: save it to review.md', []],
    ['Order: 3 apples, 2 pears. Total the price with the calculator', []],
    ['Let me know what is in notes.txt', []],
    ['Read the messages in chat.txt and send it back to me', []],
    ['Prepare an email text for Bob in draft.txt', []],
    ['Compose a message to the team and save it in message.txt', []],
    ['Write a reply to the email in inbox.txt and save it to reply.txt', []],
    ['Write a Python function that sends an email via SMTP to mailer.py', []],
    ['Find the email addresses in contacts.txt and write them to emails.txt', []],
    ['Plan a meeting agenda and write it to agenda.md', []],
    ['Write the programme of the meeting to programme.txt', []],
    ['Move the meeting notes to notes.md', []],
    ['Make sure the report has a title', []],
    ['Share your thoughts on the essay in essay.txt', []],
    ['Send the result to the output file out.txt', []],
    ['Without emailing anyone, summarize notes.txt', []],
    ['Never email anyone, just answer', []],
    ['How can I book a flight cheaply?', []],
    ['Wie sende ich eine E-Mail mit Python?', []],
    ['¿Cómo envío un correo con Python?', []],
    ['Comment envoyer un e-mail avec Python ?', []],
    ['Как отправить письмо на Python?', []],
    ['Dis-moi ce que contient notes.txt', []],
    ['Sag mir, was in notizen.txt steht', []],
    ['Dis Bonjour en français', []],
    ['私に結果を伝えて', []],
    ['Schreibe eine E-Mail an Anna in entwurf.txt', []],
    ['Напиши письмо Ивану в файл черновик.txt', []],
    // The items of what a goal writes are content, not asks; an action joined with "and" or "then" is one.
    ['Write a todo list to todo.txt: buy milk, email Bob, book the dentist', []],
    ['Create reminders.md with call mom, email Bob', []],
    ['My todo list: email Bob, buy milk. Write it to todo.txt', []],
    ['Plan the trip: book a hotel in Rome', ['event_scheduled']],
    ['Write the summary to summary.txt, then email it to bob@example.com', ['message_sent']],
    ['Save the report to report.md and send it to Bob', ['message_sent']],
    ['17 × 23 を計算して、結果を kekka.txt に保存してください', []],
    ['Escribe el texto exacto "hola mundo" en saludo.txt', []],
    ['Berechne 6 * 7 und speichere das Ergebnis in ergebnis.txt', []],
  ])('%s → %j', (text, expected) => {
    expect(asked(text)).toEqual(expected);
  });

  it('gives the sentence as written, with its file names and quotes', () => {
    expect(askedEffects('Read "my notes.txt". Then send them to bob@example.com, please.')).toEqual([
      { kind: 'message_sent', sentence: 'Then send them to bob@example.com, please.' },
    ]);
  });
});

describe('what the work asks for needs a tool call that made it', () => {
  const subtask = (extra: Partial<Subtask> = {}): Subtask => ({
    id: 's1',
    title: 'Tell Alice',
    instructions: 'Write the message for Alice.',
    milestone: 'the message is written',
    dependsOn: [],
    ...extra,
  });
  const result = (toolCalls: ToolCallRecord[]) => ({
    ok: true as const,
    answer: 'Hi Alice, the meeting moved to 3pm.',
    evidence: '',
    toolCalls,
    steps: 1,
  });
  const goal = 'Send an email to alice@example.com telling her the meeting moved to 3pm';
  const scope = (last: boolean, doneToolCalls: ToolCallRecord[] = []) => ({ goal, last, doneToolCalls });

  it("holds the plan's last subtask to the goal's ask, whatever its answer says, and names the missing tool", () => {
    const unmet = unmetAsks(subtask(), scope(true), result([]) as never);
    expect(unmet).toEqual([
      expect.objectContaining({
        why: expect.stringContaining(`"${goal}" asks that a message be sent, but no tool call of the goal did it`),
        missingTool: 'a tool that sends e-mail or messages (e.g. an MCP mail server)',
      }),
    ]);
    expect(unmetAsksVerdict(unmet)).toEqual(
      expect.objectContaining({
        met: false,
        reason: expect.stringMatching(/^the work asks for an effect no tool call produced: .*; missing tool: a tool/),
        missingTools: ['a tool that sends e-mail or messages (e.g. an MCP mail server)'],
      }),
    );
    // An earlier subtask is not the last: the goal's ask waits for the end.
    expect(unmetAsks(subtask(), scope(false), result([]) as never)).toEqual([]);
  });

  it('is met by a successful call of a tool that sends, in this subtask or a done one; a failed call is not', () => {
    const sent = call('mail__send_email', { to: 'alice@example.com' });
    expect(unmetAsks(subtask(), scope(true), result([sent]) as never)).toEqual([]);
    expect(unmetAsks(subtask(), scope(true, [sent]), result([]) as never)).toEqual([]);
    expect(unmetAsks(subtask(), scope(true), result([{ ...sent, ok: false }]) as never)).toHaveLength(1);
    // A built-in never sends: a write_file of "email.txt" is a file, not a message.
    const written = call('write_file', { path: 'email.txt', content: 'Hi Alice' });
    expect(unmetAsks(subtask(), scope(true), result([written]) as never)).toHaveLength(1);
  });

  it("holds a subtask to its own instructions' ask; with a tool that sends offered, no tool is named missing", () => {
    const own = subtask({ instructions: 'Send the email to alice@example.com.', tools: ['mail__send_email'] });
    const [unmet] = unmetAsks(own, scope(false), result([]) as never);
    expect(unmet.why).toMatch(/asks that a message be sent, but no tool call of the goal did it$/);
    expect(unmet.missingTool).toBeUndefined();
  });
});
