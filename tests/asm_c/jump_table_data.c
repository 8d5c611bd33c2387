/* A switch gcc -O2 turns into a jump table in .rodata (`.align 4`), followed in
 * the same section by a table of 32 bytes or more (`.align 32`): the padding
 * between them is data, not code. */
static const int weights[16] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3 };
int sink;

int dispatch(int op, int a, int b)
{
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: sink = a; return b << 3;
    case 4: return a ^ (b * 7);
    case 5: return (a | b) - 11;
    case 6: return a > b ? a : b;
    case 7: sink = b; return a * 13 + 5;
    case 8: return b - a * 3;
    default: return -1;
    }
}

int weigh(unsigned i, int op)
{
    return dispatch(op, weights[i & 15], weights[(i + 5) & 15]);
}
