/**
 * `tandem completion bash|zsh|fish`: a shell completion script generated from the command tree commander holds, so
 * every verb, sub-verb and flag is offered and none can be forgotten when a verb is added. zsh loads the bash script
 * through its `bashcompinit` layer, which keeps one generator for both.
 */
import type { Command } from 'commander';

/** The shells a completion script is written for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** The long flags of a command, as typed (`--max-steps`), --help included. */
function flagsOf(command: Command): string[] {
  return [...command.options.map((option) => option.long).filter((long): long is string => !!long), '--help'];
}

function visible(command: Command): Command[] {
  return command.commands.filter((sub) => sub.name() !== 'help');
}

/** Single-quoted for a POSIX shell or fish. */
function quoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function bashScript(program: Command): string {
  const globals = flagsOf(program).filter((flag) => flag !== '--help');
  const cases = visible(program).map((verb) => {
    const subs = visible(verb);
    const own = [...flagsOf(verb), ...globals].join(' ');
    if (subs.length === 0) return `    ${verb.name()}) words=${quoted(own)} ;;`;
    const subCases = subs
      .map((sub) => `        ${sub.name()}) words=${quoted([...flagsOf(sub), ...globals].join(' '))} ;;`)
      .join('\n');
    return [
      `    ${verb.name()})`,
      `      if [ "$COMP_CWORD" -eq 2 ]; then words=${quoted(subs.map((sub) => sub.name()).join(' '))}; else`,
      `      case "\${COMP_WORDS[2]}" in\n${subCases}\n      esac; fi ;;`,
    ].join('\n');
  });
  return [
    '# tandem completion for bash: source <(tandem completion bash), or save it to your bash-completion folder.',
    '_tandem() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" words=""',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    words=${quoted([...visible(program).map((verb) => verb.name()), ...globals, '--help', '--version'].join(' '))}`,
    '  else',
    '  case "${COMP_WORDS[1]}" in',
    ...cases,
    '  esac',
    '  fi',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    'complete -o default -F _tandem tandem',
    '',
  ].join('\n');
}

function zshScript(program: Command): string {
  return [
    '#compdef tandem',
    "# tandem completion for zsh: source <(tandem completion zsh) in ~/.zshrc (uses zsh's bash completion layer).",
    'autoload -U +X bashcompinit && bashcompinit',
    bashScript(program).split('\n').slice(1).join('\n'),
  ].join('\n');
}

function fishScript(program: Command): string {
  const lines = [
    '# tandem completion for fish: tandem completion fish > ~/.config/fish/completions/tandem.fish',
    'complete -c tandem -f',
  ];
  const flagLines = (condition: string, command: Command) =>
    command.options
      .filter((option) => option.long)
      .map(
        (option) =>
          `complete -c tandem -n ${quoted(condition)} -l ${option.long!.slice(2)}` +
          `${option.required || option.optional ? ' -r' : ''} -d ${quoted(option.description)}`,
      );
  lines.push(...flagLines('true', program));
  for (const verb of visible(program)) {
    lines.push(`complete -c tandem -n '__fish_use_subcommand' -a ${verb.name()} -d ${quoted(verb.description())}`);
    for (const sub of visible(verb)) {
      lines.push(
        `complete -c tandem -n ${quoted(`__fish_seen_subcommand_from ${verb.name()}`)} -a ${sub.name()} ` +
          `-d ${quoted(sub.description())}`,
      );
      lines.push(...flagLines(`__fish_seen_subcommand_from ${sub.name()}`, sub));
    }
    lines.push(...flagLines(`__fish_seen_subcommand_from ${verb.name()}`, verb));
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script of `shell` for the verbs and flags registered on `program`. */
export function completionScript(program: Command, shell: CompletionShell): string {
  switch (shell) {
    case 'bash':
      return bashScript(program);
    case 'zsh':
      return zshScript(program);
    case 'fish':
      return fishScript(program);
  }
}
