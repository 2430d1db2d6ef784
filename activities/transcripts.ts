/**
 * A conversation kept by reference, so workflow history grows linearly with the steps instead of with their square.
 *
 * A transcript is a chain of segments, each `{parent, messages}` in the content store; the workflow holds only the
 * reference of the last segment and sends each LLM activity just the messages that are new since its last call.
 */
import type { ChatMessage } from '../common/types';
import type { ContentStore } from './content-store';

interface Segment {
  parent: string | null;
  messages: ChatMessage[];
}

/** Segments are immutable and content-addressed, so a cache of them can never be stale. */
const segmentCache = new Map<string, Segment>();
const SEGMENT_CACHE_LIMIT = 10_000;

async function readSegment(store: ContentStore, ref: string): Promise<Segment> {
  const cached = segmentCache.get(ref);
  if (cached) return cached;
  const segment = JSON.parse(await store.get(ref)) as Segment;
  if (segmentCache.size >= SEGMENT_CACHE_LIMIT) segmentCache.clear();
  segmentCache.set(ref, segment);
  return segment;
}

/** Stores `messages` after `parent` and returns the reference of the extended transcript. */
export async function appendToTranscript(
  store: ContentStore,
  parent: string | null,
  messages: ChatMessage[],
): Promise<string> {
  const segment: Segment = { parent, messages };
  return store.put(JSON.stringify(segment));
}

/** Every message of the transcript, oldest first. */
export async function loadTranscript(store: ContentStore, ref: string | null): Promise<ChatMessage[]> {
  const segments: Segment[] = [];
  for (let at = ref; at !== null;) {
    const segment = await readSegment(store, at);
    segments.push(segment);
    at = segment.parent;
  }
  return segments.reverse().flatMap((segment) => segment.messages);
}
