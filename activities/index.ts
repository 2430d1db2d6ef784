/** Every activity the worker registers. Workflows import this module as a type only. */
export { callModel } from './call-model';
export { runTool } from './run-tool';
