import type { ChordPart, ChordStore } from './result-backend';

interface PendingChord {
  size: number | undefined;
  readonly parts: Map<string, ChordPart>;
}

/** Chords joined in this process's memory (the memory:// backend; Apps sharing it share its chords). */
export class MemoryChordStore implements ChordStore {
  private readonly pending = new Map<string, PendingChord>();

  async prepare(groupId: string, headerIds: readonly string[]): Promise<void> {
    this.entry(groupId).size = headerIds.length;
  }

  async partReturned(part: ChordPart): Promise<ChordPart[] | undefined> {
    const chord = this.entry(part.groupId);
    // A redelivered header task counts once.
    chord.parts.set(part.taskId, part);
    if (chord.size === undefined || chord.parts.size < chord.size) return undefined;
    this.pending.delete(part.groupId);
    return orderedParts([...chord.parts.values()]);
  }

  private entry(groupId: string): PendingChord {
    let chord = this.pending.get(groupId);
    if (!chord) this.pending.set(groupId, (chord = { size: undefined, parts: new Map() }));
    return chord;
  }
}

/** Parts in header order (`group_index`; parts without one last, as Celery's `+inf` score). */
function orderedParts(parts: ChordPart[]): ChordPart[] {
  const rank = (part: ChordPart) => part.groupIndex ?? Number.POSITIVE_INFINITY;
  return parts.sort((a, b) => rank(a) - rank(b));
}
