struct node { struct node *next; int value; };
int list_sum(const struct node *n) { int s = 0; for (; n; n = n->next) s += n->value; return s; }
struct node *list_reverse(struct node *n) {
    struct node *prev = 0;
    while (n) { struct node *next = n->next; n->next = prev; prev = n; n = next; }
    return prev;
}
