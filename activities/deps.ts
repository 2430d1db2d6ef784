/** What every activity is built with: the worker's settings and its content store, injected by the factory. */
import type { TandemConfig } from '../node/config';
import type { ContentStore } from './content-store';

export interface ActivityDeps {
  config: TandemConfig;
  store: ContentStore;
}
