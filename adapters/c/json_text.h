/* json_text.h — the little JSON amcctl needs, in C99: a growable text
 * buffer that writes JSON strings with the right escapes, and a read-only
 * tree of a parsed document (the library's responses, config files).
 * Parsing is cJSON's (libcjson); its tree is copied into json_value, whose
 * numbers keep cJSON's printed text (integers exactly). Duplicate keys:
 * lookups find the first. Also reads a whole text file (a config, a SQL
 * file, a token file). */
#ifndef AMCCTL_JSON_TEXT_H
#define AMCCTL_JSON_TEXT_H

#include <stddef.h>

/* A growable, always NUL-terminated text. Allocation failure aborts: a
 * command line tool has nothing better to do. */
typedef struct text_buffer {
  char *data;
  size_t length;
  size_t capacity;
} text_buffer;

void text_init(text_buffer *text);
/* The whole file at path ("-": stdin) as a malloc'd text, or NULL with
 * errno set. */
char *read_text_file(const char *path);
void text_free(text_buffer *text);
void text_append(text_buffer *text, const char *value);
void text_append_bytes(text_buffer *text, const char *value, size_t length);
void text_appendf(text_buffer *text, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends value as a quoted JSON string. */
void text_append_json_string(text_buffer *text, const char *value);
/* Appends "key": "value" preceded by a comma unless the buffer ends in '{'. */
void text_append_member(text_buffer *text, const char *key, const char *value);

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

typedef struct json_value {
  enum json_type type;
  char *text;    /* JSON_STRING: decoded UTF-8; JSON_NUMBER: as cJSON prints it */
  size_t count;  /* JSON_ARRAY / JSON_OBJECT: number of items */
  char **keys;   /* JSON_OBJECT: one key per item */
  struct json_value *items;
} json_value;

/* Parses a whole document; NULL (and a message in error, if not NULL) when
 * it is not valid JSON. Free with json_free. */
json_value *json_parse(const char *text, char *error, size_t error_size);
void json_free(json_value *value);

/* Lookups that accept NULL and a value of the wrong type (they give NULL). */
const json_value *json_get(const json_value *object, const char *key);
const json_value *json_at(const json_value *array, size_t index);
/* The text of a string or number, or NULL. */
const char *json_text_of(const json_value *value);
/* json_text_of(json_get(object, key)). */
const char *json_get_text(const json_value *object, const char *key);
/* The value as a number, or fallback. */
double json_number_or(const json_value *value, double fallback);

/* Appends value as compact JSON, leaving out the top-level object member
 * named skip_key (may be NULL). */
void json_write(text_buffer *out, const json_value *value, const char *skip_key);

/* The value of a hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other
 * character (for \uXXXX escapes and %XX in URLs). */
int hex_digit_value(char c);

#endif /* AMCCTL_JSON_TEXT_H */
