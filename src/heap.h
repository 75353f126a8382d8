/* heap.h: the deadline heap of a waker (an intrusive pairing heap, heap.c).
 * Loop thread only. *root is NULL when empty; the root is the minimum.
 */
#ifndef UVEV_HEAP_H_
#define UVEV_HEAP_H_

#include "uvev.h"

void uvev__heap_insert(struct uvev__heap_node** root,
                       struct uvev__heap_node* node);
void uvev__heap_remove(struct uvev__heap_node** root,
                       struct uvev__heap_node* node);

#endif /* UVEV_HEAP_H_ */
