/* Tables of pointers: with -fpic, const ones go to .data.rel.ro(.local), writable
 * ones to .data.rel(.local); a lone byte in .bss ends the image off a 4-byte
 * boundary. */
int counter = 5;
int other;
static int hidden_cell = 9;
static char last_flag;

static int add1(int x) { return x + 1; }
static int twice(int x) { return x * 2; }
int negate(int x) { return -x; }

static int (*const local_ops[])(int) = { add1, twice };
int (*const public_ops[])(int) = { negate, add1 };
static int *cells[] = { &hidden_cell, &counter };
int *exported_cells[] = { &counter, &other };

int apply_op(unsigned i, int x)
{
    last_flag = 1;
    return i < 2 ? local_ops[i](x) + public_ops[i](x) : *cells[i & 1] + *exported_cells[i & 1];
}

int flag(void) { return last_flag; }
