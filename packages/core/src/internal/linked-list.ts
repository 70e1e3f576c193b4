/**
 * An intrusive doubly-linked list: the nodes carry their own links, so adding and removing cost no
 * allocation and removal is O(1) from anywhere (a queued caller that aborts, a listener that
 * unsubscribes, a cache entry that is touched). One implementation for every queue in faultline.
 */

/** A node of a {@link LinkedList}; extend it with the payload. A node is in at most one list. */
export class ListNode {
  prev: this | undefined = undefined;
  next: this | undefined = undefined;
}

export class LinkedList<N extends ListNode> {
  head: N | undefined = undefined;
  tail: N | undefined = undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Appends `node` (which must not be in a list). */
  push(node: N): void {
    const last = this.tail;
    node.prev = last;
    node.next = undefined;
    if (last === undefined) this.head = node;
    else last.next = node;
    this.tail = node;
    this.#size++;
  }

  /** Whether `node` is in this list (O(1), for a node that is in this list or in none). */
  has(node: N): boolean {
    return node.prev !== undefined || this.head === node;
  }

  /** Removes `node`; `false` (and nothing changes) if it was not in the list. */
  remove(node: N): boolean {
    const { prev, next } = node;
    if (prev === undefined && this.head !== node) return false;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    node.prev = undefined;
    node.next = undefined;
    this.#size--;
    return true;
  }

  /** Removes and returns the first node, or `undefined` when empty. */
  shift(): N | undefined {
    const first = this.head;
    if (first !== undefined) this.remove(first);
    return first;
  }

  /** Moves `node` (in this list) to the end: a most-recently-used touch. */
  moveToEnd(node: N): void {
    if (this.tail === node) return;
    this.remove(node);
    this.push(node);
  }

  *[Symbol.iterator](): IterableIterator<N> {
    for (let node = this.head; node !== undefined; node = node.next) yield node;
  }
}
