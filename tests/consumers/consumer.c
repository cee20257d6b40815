/* A program built against an installed libamc, as a user's would be: only
 * <amc/amc.h> and the installed libamc.so. Both consumer projects
 * (find_package/ and pkg_config/) build this file. It checks that the
 * header and the library agree, and makes one round trip through a memory
 * store with a key and a refresh token made here at run time. Prints
 * "consumer ok" and exits 0 on success. */
#include <amc/amc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
  fprintf(stderr, "consumer: %s: %s\n", what, amc_last_error());
  return 1;
}

/* 32 random bytes as url-safe base64: a Fernet key, made fresh each run. */
static int random_fernet_key(char out[45]) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char raw[33] = {0};
  FILE *random = fopen("/dev/urandom", "rb");
  if (random == NULL) return 0;
  size_t got = fread(raw, 1, 32, random);
  fclose(random);
  if (got != 32) return 0;
  size_t o = 0;
  for (size_t i = 0; i < 33; i += 3) {
    unsigned long triple = ((unsigned long)raw[i] << 16) | ((unsigned long)raw[i + 1] << 8) | raw[i + 2];
    out[o++] = alphabet[(triple >> 18) & 63];
    out[o++] = alphabet[(triple >> 12) & 63];
    out[o++] = alphabet[(triple >> 6) & 63];
    out[o++] = alphabet[triple & 63];
  }
  out[43] = '=';
  out[44] = '\0';
  return 1;
}

int main(void) {
  if (amc_version_number() / 10000 != AMC_VERSION_MAJOR) {
    fprintf(stderr, "consumer: header major %d, library %d\n", AMC_VERSION_MAJOR, amc_version_number());
    return 1;
  }
  if (strcmp(amc_status_name(AMC_E_CONFIG), "AMC_E_CONFIG") != 0) {
    fprintf(stderr, "consumer: amc_status_name(AMC_E_CONFIG) is %s\n", amc_status_name(AMC_E_CONFIG));
    return 1;
  }
  amc_store *store = NULL;
  if (amc_store_new("{\"kind\": \"nowhere\"}", &store) == AMC_OK || store != NULL || amc_last_error()[0] == '\0') {
    fputs("consumer: a bad store config was not refused with a message\n", stderr);
    return 1;
  }

  char key[45];
  if (!random_fernet_key(key)) {
    fputs("consumer: cannot read /dev/urandom\n", stderr);
    return 1;
  }
  char config[128];
  snprintf(config, sizeof config, "{\"kind\": \"memory\", \"fernet_keys\": \"%s\"}", key);
  if (amc_store_new(config, &store) != AMC_OK) return fail("amc_store_new");
  char credential[256];
  snprintf(credential, sizeof credential,
           "{\"credential_id\": \"consumer\", \"client_id\": \"amzn1.application-oa2-client.consumer\","
           " \"refresh_token\": \"Atzr|consumer-%08lx\"}",
           (unsigned long)(key[0] * 65536 + key[1] * 256 + key[2]));
  if (amc_store_put_credential(store, credential) != AMC_OK) return fail("amc_store_put_credential");
  char *listing = NULL;
  if (amc_store_list_credentials(store, &listing) != AMC_OK) return fail("amc_store_list_credentials");
  const int listed = strstr(listing, "\"consumer\"") != NULL && strstr(listing, "Atzr|") == NULL;
  amc_free(listing);
  amc_store_free(store);
  if (!listed) {
    fputs("consumer: the stored credential is not listed (or its token is)\n", stderr);
    return 1;
  }
  printf("consumer ok: libamc %s\n", amc_version_string());
  return 0;
}
