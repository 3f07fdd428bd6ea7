// Whether a token may charge now: its own status, its expiry, and its parent's (group's) status.
import type { TokenRec, TokenStatus } from './registry.js';

export interface Authorization {
  status: TokenStatus;
  expiryDate?: string;
  /** The parent (group) token. */
  parentId?: string;
}

/** What happens to a token the back end does not know. */
export type UnknownTokenPolicy = 'reject' | 'accept';

export class Authorizer {
  constructor(
    private readonly tokens: ReadonlyMap<string, TokenRec>,
    private readonly unknownTokenPolicy: UnknownTokenPolicy,
  ) {}

  authorize(token: string, nowMs: number): Authorization {
    const t = this.tokens.get(token);
    if (!t) return { status: this.unknownTokenPolicy === 'accept' ? 'Accepted' : 'Invalid' };
    const result: Authorization = { status: this.effectiveStatus(t, nowMs, 0) };
    if (t.expiryDate) result.expiryDate = t.expiryDate;
    if (t.parentIdTag) result.parentId = t.parentIdTag;
    return result;
  }

  private effectiveStatus(t: TokenRec, nowMs: number, depth: number): TokenStatus {
    if (t.status !== 'Accepted') return t.status;
    if (t.expiryDate && Date.parse(t.expiryDate) <= nowMs) return 'Expired';
    if (t.parentIdTag && depth < 8 && t.parentIdTag !== t.idTag) {
      const parent = this.tokens.get(t.parentIdTag);
      if (parent) {
        const ps = this.effectiveStatus(parent, nowMs, depth + 1);
        // A blocked (or expired) group blocks (or expires) its members.
        if (ps === 'Blocked' || ps === 'Expired') return ps;
      }
    }
    return 'Accepted';
  }
}
