struct point { int x, y; };
struct rect { struct point lo, hi; };
int area(const struct rect *r) { return (r->hi.x - r->lo.x) * (r->hi.y - r->lo.y); }
void grow(struct rect *r, int d) { r->lo.x -= d; r->lo.y -= d; r->hi.x += d; r->hi.y += d; }
