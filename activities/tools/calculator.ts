import { parse, type MathNode } from 'mathjs';
import { calculatorTool } from '../../common/tools';
import { defineHandler, ToolInputError } from './tool';

/**
 * mathjs parses the expression into a tree; only arithmetic nodes and a fixed set of functions and constants are
 * allowed before it is evaluated, so an expression can never reach mathjs' own `import`, `evaluate` or assignments.
 */
const ALLOWED_FUNCTIONS = new Set([
  'sqrt',
  'abs',
  'round',
  'floor',
  'ceil',
  'min',
  'max',
  'pow',
  'log',
  'exp',
  'sin',
  'cos',
  'tan',
]);
const ALLOWED_CONSTANTS = new Set(['pi', 'e']);
const ALLOWED_NODES = new Set(['ConstantNode', 'OperatorNode', 'ParenthesisNode', 'FunctionNode', 'SymbolNode']);

function checkNode(node: MathNode, parent: MathNode | null): void {
  if (!ALLOWED_NODES.has(node.type)) {
    throw new ToolInputError(
      `"${node.toString()}" is not arithmetic; use numbers, + - * / ^ %, parentheses and functions`,
    );
  }
  if (node.type === 'SymbolNode') {
    const name = (node as unknown as { name: string }).name;
    const isCallee = parent?.type === 'FunctionNode' && (parent as unknown as { fn: MathNode }).fn === node;
    if (isCallee ? !ALLOWED_FUNCTIONS.has(name) : !ALLOWED_CONSTANTS.has(name)) {
      throw new ToolInputError(
        `unknown ${isCallee ? 'function' : 'name'} "${name}"; allowed functions: ${[...ALLOWED_FUNCTIONS].join(', ')}; ` +
          `constants: ${[...ALLOWED_CONSTANTS].join(', ')}`,
      );
    }
  }
}

/** Evaluates an arithmetic expression safely; exported for unit tests. */
export function evaluateArithmetic(expression: string): number {
  let tree: MathNode;
  try {
    tree = parse(expression);
  } catch (err) {
    throw new ToolInputError(`cannot parse "${expression}": ${(err as Error).message}`);
  }
  tree.traverse((node, _path, parent) => checkNode(node, parent));
  const value: unknown = tree.evaluate();
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ToolInputError(`"${expression}" does not evaluate to a finite number (got ${String(value)})`);
  }
  return value;
}

export const calculator = defineHandler(calculatorTool, async ({ expression }) =>
  String(evaluateArithmetic(expression)),
);
