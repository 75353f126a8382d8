/* heap.c: the deadline heap of a waker, an intrusive pairing heap.
 *
 * Insert is O(1); removing the minimum or any node is O(log n) amortised.
 * Nodes live inside the wait requests, so timed waits allocate nothing.
 * Loop thread only. Ordered by (key, seq): equal deadlines expire in the order
 * they were set.
 */
#include <stddef.h>

#include "uvev.h"
#include "heap.h"

static int uvev__heap_less(const struct uvev__heap_node* a,
                           const struct uvev__heap_node* b) {
  if (a->key != b->key)
    return a->key < b->key;
  return a->seq < b->seq;
}

/* Links two detached roots; returns the new root. */
static struct uvev__heap_node* uvev__heap_meld(struct uvev__heap_node* a,
                                               struct uvev__heap_node* b) {
  struct uvev__heap_node* t;

  if (a == NULL)
    return b;
  if (b == NULL)
    return a;
  if (uvev__heap_less(b, a)) {
    t = a;
    a = b;
    b = t;
  }
  /* b becomes the first child of a. */
  b->sibling = a->child;
  if (a->child != NULL)
    a->child->prev = b;
  b->prev = a;
  a->child = b;
  a->sibling = NULL;
  a->prev = NULL;
  return a;
}

/* Melds a list of siblings into one root: pairs left to right, then melds
 * the pairs right to left (the two-pass rule that gives the log bound). */
static struct uvev__heap_node* uvev__heap_combine(struct uvev__heap_node* first) {
  struct uvev__heap_node* pairs;
  struct uvev__heap_node* a;
  struct uvev__heap_node* b;
  struct uvev__heap_node* next;
  struct uvev__heap_node* root;

  /* Pass 1: meld neighbours; chain the results backwards through `prev`. */
  pairs = NULL;
  while (first != NULL) {
    a = first;
    b = a->sibling;
    next = b != NULL ? b->sibling : NULL;
    a->sibling = NULL;
    if (b != NULL)
      b->sibling = NULL;
    a = uvev__heap_meld(a, b);
    a->prev = pairs;
    pairs = a;
    first = next;
  }
  /* Pass 2: meld from the last pair back to the first. */
  root = NULL;
  while (pairs != NULL) {
    next = pairs->prev;
    pairs->prev = NULL;
    root = uvev__heap_meld(root, pairs);
    pairs = next;
  }
  return root;
}

void uvev__heap_insert(struct uvev__heap_node** root,
                       struct uvev__heap_node* node) {
  node->child = NULL;
  node->sibling = NULL;
  node->prev = NULL;
  *root = uvev__heap_meld(*root, node);
}

void uvev__heap_remove(struct uvev__heap_node** root,
                       struct uvev__heap_node* node) {
  struct uvev__heap_node* sub;

  sub = uvev__heap_combine(node->child);
  if (node == *root) {
    *root = sub;
  } else {
    /* Cut node out of its sibling list, then meld its children back in. */
    if (node->prev->child == node)
      node->prev->child = node->sibling;
    else
      node->prev->sibling = node->sibling;
    if (node->sibling != NULL)
      node->sibling->prev = node->prev;
    *root = uvev__heap_meld(*root, sub);
  }
  node->child = NULL;
  node->sibling = NULL;
  node->prev = NULL;
}
