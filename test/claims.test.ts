import { claimedEffects, unbackedClaims, type ClaimContext } from '../common/claims';
import { namedFiles } from '../common/checks';
import { expressionsIn } from '../common/expressions';
import type { ToolCallRecord } from '../common/types';

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
