// A virtualized list: keeps in the DOM only the rows in view, so that lists of hundreds of
// conversations, events or dead letters stay cheap. Used by the conversation list, the events
// tab and the dead-letter view.

import { h } from './dom.js';

/** A list that keeps in the DOM only the rows in view (fixed row height). */
export class VirtualList {
  /** `root` holds a `.vlist-spacer` and a `.vlist-rows`; `renderRow(row, item)` fills a row; `onClick(item, event)` handles clicks on rows. */
  constructor(root, rowHeight, renderRow, onClick) {
    this.root = root;
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.items = [];
    this.rows = [];
    this.spacer = root.querySelector('.vlist-spacer');
    this.container = root.querySelector('.vlist-rows');
    root.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(root);
    if (onClick) {
      this.container.addEventListener('click', (event) => {
        const row = event.target.closest('.vrow');
        const item = row ? this.items[Number(row.dataset.index)] : undefined;
        if (item !== undefined) onClick(item, event);
      });
    }
  }

  /** Replaces the list's items (drawn on the next frame). */
  setItems(items) {
    this.items = items;
    this.schedule();
  }

  /** Redraws the rows in view on the next animation frame (once, however often it is called). */
  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  /** Scrolls to the last item. */
  scrollToEnd() {
    this.root.scrollTop = this.items.length * this.rowHeight;
    this.schedule();
  }

  /** Draws the rows in view now (plus a few above and below). */
  draw() {
    const { rowHeight, items } = this;
    this.spacer.style.height = `${items.length * rowHeight}px`;
    const top = this.root.scrollTop;
    const height = this.root.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowHeight) - 4);
    const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + 4);
    this.container.style.transform = `translateY(${first * rowHeight}px)`;
    const count = Math.max(0, last - first);
    while (this.rows.length < count) this.rows.push(this.container.appendChild(h('div', 'vrow')));
    while (this.rows.length > count) this.rows.pop().remove();
    for (let i = 0; i < count; i++) {
      const row = this.rows[i];
      row.dataset.index = String(first + i);
      this.renderRow(row, items[first + i]);
    }
  }
}
