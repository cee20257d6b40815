/* json_text.c — see json_text.h. Parsing is cJSON's (libcjson). */
#include "json_text.h"

#include <cjson/cJSON.h>

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
 * Parsing: cJSON (Debian's libcjson) reads the text; its tree is copied
 * into json_value so the rest of amcctl keeps one small read-only model.
 * --------------------------------------------------------------------- */

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static char *copy_text(const char *value) {
  size_t length = strlen(value);
  char *copy = checked_realloc(NULL, length + 1);
  memcpy(copy, value, length + 1);
  return copy;
}

/* A number's text as cJSON prints it: integers exactly, others with the
 * shortest of 15 or 17 significant digits that reads back the same. */
static char *number_text(const cJSON *item) {
  char *printed = cJSON_PrintUnformatted(item);
  if (printed == NULL) {
    fputs("amcctl: out of memory\n", stderr);
    abort();
  }
  char *copy = copy_text(printed);
  cJSON_free(printed);
  return copy;
}

static void convert(const cJSON *item, json_value *out) {
  memset(out, 0, sizeof *out);
  if (cJSON_IsNull(item)) out->type = JSON_NULL;
  else if (cJSON_IsFalse(item)) out->type = JSON_FALSE;
  else if (cJSON_IsTrue(item)) out->type = JSON_TRUE;
  else if (cJSON_IsNumber(item)) {
    out->type = JSON_NUMBER;
    out->text = number_text(item);
  } else if (cJSON_IsString(item)) {
    out->type = JSON_STRING;
    out->text = copy_text(item->valuestring);
  } else {
    const int is_object = cJSON_IsObject(item);
    out->type = is_object ? JSON_OBJECT : JSON_ARRAY;
    out->count = (size_t)cJSON_GetArraySize(item);
    out->items = checked_realloc(NULL, out->count * sizeof *out->items);
    if (is_object) out->keys = checked_realloc(NULL, out->count * sizeof *out->keys);
    size_t i = 0;
    for (const cJSON *child = item->child; child != NULL && i < out->count; child = child->next, ++i) {
      convert(child, &out->items[i]);
      if (is_object) out->keys[i] = copy_text(child->string);
    }
  }
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

/* Line and column (from 1, in bytes) of position in text. */
static void line_and_column(const char *text, const char *position, long *line, long *column) {
  *line = 1;
  *column = 1;
  for (const char *p = text; p < position && *p != '\0'; ++p) {
    if (*p == '\n') {
      ++*line;
      *column = 1;
    } else {
      ++*column;
    }
  }
}

json_value *json_parse(const char *text, char *error, size_t error_size) {
  if (text == NULL) {
    if (error != NULL && error_size > 0) snprintf(error, error_size, "no text");
    return NULL;
  }
  const char *end = NULL;
  cJSON *document = cJSON_ParseWithOpts(text, &end, 1);
  if (document == NULL) {
    if (error != NULL && error_size > 0) {
      long line = 0, column = 0;
      line_and_column(text, end != NULL ? end : text, &line, &column);
      if (end != NULL && *end == '\0')
        snprintf(error, error_size, "the text ends before the JSON document does (line %ld)", line);
      else
        snprintf(error, error_size, "not valid JSON at line %ld, column %ld", line, column);
    }
    return NULL;
  }
  json_value *root = checked_realloc(NULL, sizeof *root);
  convert(document, root);
  cJSON_Delete(document);
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
