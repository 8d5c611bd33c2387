/* include/linux/string.h: lib/string.c's functions (here the kernel model's). */
#ifndef _LINUX_STRING_H
#define _LINUX_STRING_H
#include <linux/types.h>
void *memcpy(void *to, const void *from, size_t n);
void *memmove(void *to, const void *from, size_t n);
void *memset(void *s, int c, size_t n);
int memcmp(const void *cs, const void *ct, size_t count);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t count);
int strcmp(const char *cs, const char *ct);
int strncmp(const char *cs, const char *ct, size_t count);
char *strcpy(char *dest, const char *src);
char *strncpy(char *dest, const char *src, size_t count);
char *strchr(const char *s, int c);
#endif
