/**
 * The project's `moduleResolution: node` does not read package `exports`, through which LangGraph publishes its
 * `prebuilt` entry point; this points the type checker at the same file Node loads at run time.
 */
declare module '@langchain/langgraph/prebuilt' {
  export { createReactAgent } from '@langchain/langgraph/dist/prebuilt/index.js';
}
