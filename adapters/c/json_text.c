/* json_text.c — see json_text.h. */
#include "json_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *checked_realloc(void *pointer, size_t size) {
  void *grown = realloc(pointer, size == 0 ? 1 : size);
  if (grown == NULL) {
    fputs("amcctl: out of memory\n", stderr);
    abort();
  }
  return grown;
}

void text_init(text_buffer *text) {
  text->capacity = 64;
  text->length = 0;
  text->data = checked_realloc(NULL, text->capacity);
  text->data[0] = '\0';
}

void text_free(text_buffer *text) {
  free(text->data);
  text->data = NULL;
  text->length = text->capacity = 0;
}

static void text_reserve(text_buffer *text, size_t extra) {
  if (text->length + extra + 1 <= text->capacity) return;
  while (text->length + extra + 1 > text->capacity) text->capacity *= 2;
  text->data = checked_realloc(text->data, text->capacity);
}

void text_append_bytes(text_buffer *text, const char *value, size_t length) {
  text_reserve(text, length);
  memcpy(text->data + text->length, value, length);
  text->length += length;
  text->data[text->length] = '\0';
}

void text_append(text_buffer *text, const char *value) { text_append_bytes(text, value, strlen(value)); }

void text_appendf(text_buffer *text, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  va_list copy;
  va_copy(copy, arguments);
  char probe[1];
  int needed = vsnprintf(probe, sizeof probe, format, copy);
  va_end(copy);
  if (needed > 0) {
    text_reserve(text, (size_t)needed);
    vsnprintf(text->data + text->length, (size_t)needed + 1, format, arguments);
    text->length += (size_t)needed;
  }
  va_end(arguments);
}

void text_append_json_string(text_buffer *text, const char *value) {
  text_append(text, "\"");
  for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; ++p) {
    switch (*p) {
      case '"': text_append(text, "\\\""); break;
      case '\\': text_append(text, "\\\\"); break;
      case '\n': text_append(text, "\\n"); break;
      case '\r': text_append(text, "\\r"); break;
      case '\t': text_append(text, "\\t"); break;
      default:
        if (*p < 0x20) {
          text_appendf(text, "\\u%04x", (unsigned)*p);
        } else {
          char c = (char)*p;
          text_append_bytes(text, &c, 1);
        }
    }
  }
  text_append(text, "\"");
}

void text_append_member(text_buffer *text, const char *key, const char *value) {
  if (text->length > 0 && text->data[text->length - 1] != '{') text_append(text, ",");
  text_append_json_string(text, key);
  text_append(text, ":");
  text_append_json_string(text, value);
}

/* ------------------------------------------------------------------------
 * Parser
 * --------------------------------------------------------------------- */

enum { max_depth = 64 };

typedef struct parser {
  const char *p;
  const char *error;
} parser;

static void skip_space(parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ++ps->p;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int read_hex4(parser *ps, unsigned *out) {
  unsigned value = 0;
  for (int i = 0; i < 4; ++i) {
    int digit = hex_digit_value(ps->p[i]);
    if (digit < 0) return 0;
    value = value * 16 + (unsigned)digit;
  }
  ps->p += 4;
  *out = value;
  return 1;
}

static void append_utf8(text_buffer *out, unsigned code) {
  char bytes[4];
  size_t n;
  if (code < 0x80) {
    bytes[0] = (char)code;
    n = 1;
  } else if (code < 0x800) {
    bytes[0] = (char)(0xC0 | (code >> 6));
    bytes[1] = (char)(0x80 | (code & 0x3F));
    n = 2;
  } else if (code < 0x10000) {
    bytes[0] = (char)(0xE0 | (code >> 12));
    bytes[1] = (char)(0x80 | ((code >> 6) & 0x3F));
    bytes[2] = (char)(0x80 | (code & 0x3F));
    n = 3;
  } else {
    bytes[0] = (char)(0xF0 | (code >> 18));
    bytes[1] = (char)(0x80 | ((code >> 12) & 0x3F));
    bytes[2] = (char)(0x80 | ((code >> 6) & 0x3F));
    bytes[3] = (char)(0x80 | (code & 0x3F));
    n = 4;
  }
  text_append_bytes(out, bytes, n);
}

/* Parses a string at ps->p (which is at the opening quote); returns a
 * malloc'd UTF-8 text or NULL. */
static char *parse_string(parser *ps) {
  text_buffer out;
  text_init(&out);
  ++ps->p;
  for (;;) {
    unsigned char c = (unsigned char)*ps->p;
    if (c == '\0' || c < 0x20) {
      ps->error = "unterminated string";
      text_free(&out);
      return NULL;
    }
    ++ps->p;
    if (c == '"') break;
    if (c != '\\') {
      char byte = (char)c;
      text_append_bytes(&out, &byte, 1);
      continue;
    }
    char escape = *ps->p++;
    switch (escape) {
      case '"': text_append(&out, "\""); break;
      case '\\': text_append(&out, "\\"); break;
      case '/': text_append(&out, "/"); break;
      case 'b': text_append(&out, "\b"); break;
      case 'f': text_append(&out, "\f"); break;
      case 'n': text_append(&out, "\n"); break;
      case 'r': text_append(&out, "\r"); break;
      case 't': text_append(&out, "\t"); break;
      case 'u': {
        unsigned code = 0;
        if (!read_hex4(ps, &code)) {
          ps->error = "bad \\u escape";
          text_free(&out);
          return NULL;
        }
        if (code >= 0xD800 && code <= 0xDBFF && ps->p[0] == '\\' && ps->p[1] == 'u') {
          unsigned low = 0;
          ps->p += 2;
          if (!read_hex4(ps, &low) || low < 0xDC00 || low > 0xDFFF) {
            ps->error = "bad surrogate pair";
            text_free(&out);
            return NULL;
          }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(&out, code);
        break;
      }
      default:
        ps->error = "bad escape";
        text_free(&out);
        return NULL;
    }
  }
  return out.data;
}

static int parse_value(parser *ps, json_value *out, int depth);

static int parse_container(parser *ps, json_value *out, int depth, int is_object) {
  const char close = is_object ? '}' : ']';
  size_t capacity = 0;
  out->type = is_object ? JSON_OBJECT : JSON_ARRAY;
  ++ps->p;
  skip_space(ps);
  if (*ps->p == close) {
    ++ps->p;
    return 1;
  }
  for (;;) {
    if (out->count == capacity) {
      capacity = capacity == 0 ? 4 : capacity * 2;
      out->items = checked_realloc(out->items, capacity * sizeof *out->items);
      if (is_object) out->keys = checked_realloc(out->keys, capacity * sizeof *out->keys);
    }
    json_value *item = &out->items[out->count];
    memset(item, 0, sizeof *item);
    skip_space(ps);
    if (is_object) {
      if (*ps->p != '"') {
        ps->error = "expected a key";
        return 0;
      }
      char *key = parse_string(ps);
      if (key == NULL) return 0;
      out->keys[out->count] = key;
      skip_space(ps);
      if (*ps->p != ':') {
        ++out->count; /* so the key is freed */
        ps->error = "expected ':'";
        return 0;
      }
      ++ps->p;
    }
    ++out->count;
    if (!parse_value(ps, item, depth + 1)) return 0;
    skip_space(ps);
    if (*ps->p == ',') {
      ++ps->p;
      continue;
    }
    if (*ps->p == close) {
      ++ps->p;
      return 1;
    }
    ps->error = is_object ? "expected ',' or '}'" : "expected ',' or ']'";
    return 0;
  }
}

static int parse_number(parser *ps, json_value *out) {
  const char *start = ps->p;
  if (*ps->p == '-') ++ps->p;
  if (*ps->p < '0' || *ps->p > '9') {
    ps->error = "unexpected character";
    return 0;
  }
  while ((*ps->p >= '0' && *ps->p <= '9') || *ps->p == '.' || *ps->p == 'e' || *ps->p == 'E' ||
         *ps->p == '+' || *ps->p == '-')
    ++ps->p;
  size_t length = (size_t)(ps->p - start);
  out->type = JSON_NUMBER;
  out->text = checked_realloc(NULL, length + 1);
  memcpy(out->text, start, length);
  out->text[length] = '\0';
  return 1;
}

static int parse_value(parser *ps, json_value *out, int depth) {
  if (depth > max_depth) {
    ps->error = "nested too deeply";
    return 0;
  }
  skip_space(ps);
  switch (*ps->p) {
    case '{': return parse_container(ps, out, depth, 1);
    case '[': return parse_container(ps, out, depth, 0);
    case '"':
      out->type = JSON_STRING;
      out->text = parse_string(ps);
      return out->text != NULL;
    case 't':
      if (strncmp(ps->p, "true", 4) != 0) break;
      ps->p += 4;
      out->type = JSON_TRUE;
      return 1;
    case 'f':
      if (strncmp(ps->p, "false", 5) != 0) break;
      ps->p += 5;
      out->type = JSON_FALSE;
      return 1;
    case 'n':
      if (strncmp(ps->p, "null", 4) != 0) break;
      ps->p += 4;
      out->type = JSON_NULL;
      return 1;
    default: return parse_number(ps, out);
  }
  ps->error = "unexpected word";
  return 0;
}

static void free_contents(json_value *value) {
  for (size_t i = 0; i < value->count; ++i) {
    free_contents(&value->items[i]);
    if (value->keys != NULL) free(value->keys[i]);
  }
  free(value->items);
  free(value->keys);
  free(value->text);
}

json_value *json_parse(const char *text, char *error, size_t error_size) {
  parser ps = {text, NULL};
  json_value *root = checked_realloc(NULL, sizeof *root);
  memset(root, 0, sizeof *root);
  int ok = text != NULL && parse_value(&ps, root, 0);
  if (ok) {
    skip_space(&ps);
    if (*ps.p != '\0') {
      ps.error = "trailing text after the document";
      ok = 0;
    }
  }
  if (!ok) {
    if (error != NULL && error_size > 0)
      snprintf(error, error_size, "%s at offset %ld", ps.error ? ps.error : "no text",
               text ? (long)(ps.p - text) : 0L);
    json_free(root);
    return NULL;
  }
  return root;
}

void json_free(json_value *value) {
  if (value == NULL) return;
  free_contents(value);
  free(value);
}

const json_value *json_get(const json_value *object, const char *key) {
  if (object == NULL || object->type != JSON_OBJECT) return NULL;
  for (size_t i = 0; i < object->count; ++i)
    if (strcmp(object->keys[i], key) == 0) return &object->items[i];
  return NULL;
}

const json_value *json_at(const json_value *array, size_t index) {
  if (array == NULL || (array->type != JSON_ARRAY && array->type != JSON_OBJECT) || index >= array->count)
    return NULL;
  return &array->items[index];
}

const char *json_text_of(const json_value *value) {
  if (value == NULL || (value->type != JSON_STRING && value->type != JSON_NUMBER)) return NULL;
  return value->text;
}

const char *json_get_text(const json_value *object, const char *key) {
  return json_text_of(json_get(object, key));
}

double json_number_or(const json_value *value, double fallback) {
  if (value == NULL || value->type != JSON_NUMBER) return fallback;
  return strtod(value->text, NULL);
}

void json_write(text_buffer *out, const json_value *value, const char *skip_key) {
  switch (value->type) {
    case JSON_NULL: text_append(out, "null"); break;
    case JSON_FALSE: text_append(out, "false"); break;
    case JSON_TRUE: text_append(out, "true"); break;
    case JSON_NUMBER: text_append(out, value->text); break;
    case JSON_STRING: text_append_json_string(out, value->text); break;
    case JSON_ARRAY:
    case JSON_OBJECT: {
      const int is_object = value->type == JSON_OBJECT;
      int first = 1;
      text_append(out, is_object ? "{" : "[");
      for (size_t i = 0; i < value->count; ++i) {
        if (is_object && skip_key != NULL && strcmp(value->keys[i], skip_key) == 0) continue;
        if (!first) text_append(out, ",");
        first = 0;
        if (is_object) {
          text_append_json_string(out, value->keys[i]);
          text_append(out, ":");
        }
        json_write(out, &value->items[i], NULL);
      }
      text_append(out, is_object ? "}" : "]");
      break;
    }
  }
}

char *read_text_file(const char *path) {
  FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (file == NULL) return NULL;
  text_buffer text;
  text_init(&text);
  char chunk[8192];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, file)) > 0) text_append_bytes(&text, chunk, got);
  int failed = ferror(file);
  if (file != stdin) fclose(file);
  if (failed) {
    text_free(&text);
    return NULL;
  }
  return text.data;
}
