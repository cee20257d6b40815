// Issue 23, deliver point 2: the network fault matrix. Every kind of
// request libamc sends (token refresh, GET, PUT, POST create, a list with
// pages, a result part's download) meets every failure point a network or
// a server can produce (connection refused, a TLS handshake that fails, a
// reset after the request was written, in the middle of the headers or of
// the body, a reply trickled past the call's deadline, 429, 5xx, a
// malformed body, a body that never ends), through libamc.so and amc.h as
// a host calls it. One row per cell (the test's name says which: kind and
// failure point), each asserting the outcome docs/reliability.md ("The
// network fault matrix") documents: retried, reconciled, or a clear error
// with the right status code, within the call's deadline, and that nothing
// stored is lost (the credential's refresh token, the execution journal).
//
// The servers are scripted HTTP servers on 127.0.0.1
// (tests/net/scripted_server.hpp), one each for LwA, AMC and the result
// parts, so the failure hits exactly one request: each answers requests in
// order, by the script the row gives for the server under test.
#include "amc/amc.h"

#include "../net/scripted_server.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using amc::net::testing::script_step;
using amc::net::testing::scripted_server;
using action = script_step::action;
using namespace std::chrono_literals;

const std::string refresh_token = "Atzr|matrix-refresh-5b2d4f60";
const std::string amc_execution_id = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const std::string execution_id = "exec_matrix01";
const std::string workflow_id = "wf_matrix";

enum class request_kind { token_refresh, get, put, post_create, list_pages, download_part };
enum class failure_point {
  connection_refused,
  tls_handshake,
  reset_after_write,
  reset_mid_headers,
  reset_mid_body,
  trickle_past_deadline,
  throttled,
  server_error,
  malformed_body,
  endless_body,
};

const char* name_of(request_kind kind) {
  switch (kind) {
    case request_kind::token_refresh: return "TokenRefresh";
    case request_kind::get: return "Get";
    case request_kind::put: return "Put";
    case request_kind::post_create: return "PostCreate";
    case request_kind::list_pages: return "ListPages";
    case request_kind::download_part: return "DownloadPart";
  }
  return "?";
}

const char* name_of(failure_point point) {
  switch (point) {
    case failure_point::connection_refused: return "ConnectionRefused";
    case failure_point::tls_handshake: return "TlsHandshakeFails";
    case failure_point::reset_after_write: return "ResetAfterWrite";
    case failure_point::reset_mid_headers: return "ResetMidHeaders";
    case failure_point::reset_mid_body: return "ResetMidBody";
    case failure_point::trickle_past_deadline: return "TricklePastDeadline";
    case failure_point::throttled: return "Throttled429";
    case failure_point::server_error: return "ServerError503";
    case failure_point::malformed_body: return "MalformedBody";
    case failure_point::endless_body: return "EndlessBody";
  }
  return "?";
}

// What the documented outcome is (docs/reliability.md, "The network fault
// matrix").
enum class outcome {
  retried,     // the request is sent again and the call succeeds
  reconciled,  // a create whose outcome is unknown is found in AMC's list: the call succeeds, re-attached
  refused,     // a clear error with `status`, nothing sent again that must not be
};

struct cell {
  request_kind kind;
  failure_point point;
  outcome expected;
  amc_status status = AMC_OK;  // for refused
  // How many requests the server under test sees for the failing request
  // (the first attempt and its retries); 0: not checked.
  int attempts = 0;
};

std::string cell_name(const ::testing::TestParamInfo<cell>& info) {
  return std::string(name_of(info.param.kind)) + "_" + name_of(info.param.point);
}

std::string take(char* text) {
  std::string copy = text != nullptr ? text : "";
  amc_free(text);
  return copy;
}

script_step reply(const json& body, unsigned status = 200) {
  script_step step;
  step.status = status;
  step.body = body.dump();
  step.headers = {{"Content-Type", "application/json"}};
  return step;
}

script_step token_reply() {
  return reply({{"access_token", "Atza|matrix-access"}, {"token_type", "bearer"}, {"expires_in", 3600}});
}

json execution(const std::string& status = "RUNNING") {
  return {{"workflowExecutionId", amc_execution_id}, {"workflowId", workflow_id}, {"status", status},
          {"timeWindowType", "MOST_RECENT_DAY"}, {"createTime", "2030-01-01T00:00:00Z"}};
}

// The reply the failing request gets when it goes through.
script_step good_reply(request_kind kind) {
  switch (kind) {
    case request_kind::token_refresh: return token_reply();
    case request_kind::get: return reply(execution());
    case request_kind::put: return reply(json::object());
    case request_kind::post_create: return reply({{"workflowExecutionId", amc_execution_id}, {"status", "PENDING"}});
    case request_kind::list_pages: return reply({{"executions", {execution("SUCCEEDED")}}});
    case request_kind::download_part: {
      script_step step;
      step.body = "a,b\n1,2\n";
      step.headers = {{"Content-Type", "text/csv"}};
      return step;
    }
  }
  return {};
}

// A reply's bytes as they go on the wire, for the faults that cut or slow
// them.
std::string wire_of(const script_step& step) {
  return "HTTP/1.1 " + std::to_string(step.status) + " OK\r\nContent-Type: " + step.headers.front().second +
         "\r\nContent-Length: " + std::to_string(step.body.size()) + "\r\n\r\n" + step.body;
}

// The step that makes `point` happen to a request of `kind` (connection
// refused and the TLS handshake are made by the endpoint, not a step).
script_step failing_step(request_kind kind, failure_point point) {
  const auto good = good_reply(kind);
  const std::string wire = wire_of(good);
  script_step step;
  switch (point) {
    case failure_point::connection_refused:
    case failure_point::tls_handshake:
    case failure_point::reset_after_write: step.what = action::reset; break;
    case failure_point::reset_mid_headers:
      step.what = action::reset_after_parts;
      step.raw_parts = {wire.substr(0, wire.find("Content-Length"))};
      break;
    case failure_point::reset_mid_body:
      step.what = action::reset_after_parts;
      step.raw_parts = {wire.substr(0, wire.size() - good.body.size() / 2)};
      break;
    case failure_point::trickle_past_deadline: {
      // The headers at once, then the body a byte every 400 ms (at least
      // 10 bytes: JSON may start with spaces): each read makes progress,
      // only the call's deadline ends it.
      auto slow = good;
      if (slow.body.size() < 10) slow.body.insert(0, 10 - slow.body.size(), ' ');
      const std::string slow_wire = wire_of(slow);
      step.raw_parts.push_back(slow_wire.substr(0, slow_wire.size() - slow.body.size()));
      for (char c : slow.body) step.raw_parts.emplace_back(1, c);
      step.delay_before_body = 400ms;
      break;
    }
    case failure_point::throttled:
      step = script_step::status_only(429, {{"Retry-After", "0"}, {"Content-Type", "application/json"}});
      step.body = json{{"code", "429"}, {"details", "Too many requests"}}.dump();
      break;
    case failure_point::server_error:
      step = script_step::status_only(503, {{"Content-Type", "application/json"}});
      step.body = json{{"code", "503"}, {"details", "Service unavailable"}}.dump();
      break;
    case failure_point::malformed_body:
      step = good;
      step.body = kind == request_kind::download_part ? std::string("a,b\n1,\"2\n") : std::string("{\"executions\": [");
      break;
    case failure_point::endless_body:
      step.what = action::endless_body;
      step.headers = {{"Content-Type", good.headers.front().second}};
      break;
  }
  return step;
}

class FaultMatrix : public ::testing::TestWithParam<cell> {
 protected:
  // The call's timeout: long enough for a retry on a loaded machine; short
  // where the deadline is what ends the call (a trickle, a result part
  // that never ends), so those cells take 1.5 s.
  static int timeout_ms_of(const cell& row) {
    const bool deadline_ends_it = row.point == failure_point::trickle_past_deadline ||
                                  (row.point == failure_point::endless_body && row.kind == request_kind::download_part);
    return deadline_ends_it ? 1500 : 5000;
  }

  json config_for(const std::string& amc_url, const std::string& lwa_url) const {
    return {{"endpoints", {{"amc", amc_url}, {"lwa_token", lwa_url}}},
            {"lwa", {{"client_id", "amzn1.application-oa2-client.matrix"}, {"client_secret", "matrix-secret-77ee1199"}}},
            {"proxy", {{"from_environment", false}}},
            {"http", {{"max_response_body_bytes", 256 * 1024}}},
            {"retry", {{"base_delay_ms", 10}, {"max_delay_ms", 20}, {"max_attempts", 2}}},
            {"store", {{"path", store_path().string()}, {"fernet_keys", key_}}}};
  }
  std::filesystem::path store_path() const { return directory_.path() / "creds.json"; }

  static json instance_request(int timeout_ms, json more = json::object()) {
    json body = {{"credential_id", "conn"},
                 {"instance",
                  {{"instance_id", "amcmatrix1"}, {"advertiser_id", "ENTITY1AA1AA11AAA1"}, {"marketplace_id", "ATVPDKIKX0DER"}}},
                 {"timeout_ms", timeout_ms}};
    body.merge_patch(more);
    return body;
  }

  // The credential's refresh token, read back through a store of its own
  // on the same file, and the execution journal's entry, from the file.
  std::string stored_refresh_token() const {
    amc_store* store = nullptr;
    const json config = {{"path", store_path().string()}, {"fernet_keys", key_}};
    if (amc_store_new(config.dump().c_str(), &store) != AMC_OK) return std::string("(store: ") + amc_last_error() + ")";
    char* out = nullptr;
    std::string token;
    if (amc_store_get_credential(store, "conn", R"({"include_secrets": true})", &out) == AMC_OK)
      token = json::parse(take(out)).value("refresh_token", "");
    else
      token = std::string("(get: ") + amc_last_error() + ")";
    amc_store_free(store);
    return token;
  }
  std::optional<json> journal_entry() const {
    std::ifstream in(store_path());
    const auto document = json::parse(in, nullptr, false);
    if (!document.is_object() || !document.contains("executions") || !document["executions"].contains(execution_id))
      return std::nullopt;
    return document["executions"][execution_id];
  }

  amc::testing::temporary_directory directory_;
  std::string key_ = amc::testing::generate_fernet_key();
};

TEST_P(FaultMatrix, Cell) {
  const cell row = GetParam();
  const bool lwa_fails = row.kind == request_kind::token_refresh;
  const bool part_fails = row.kind == request_kind::download_part;
  const bool amc_fails = !lwa_fails && !part_fails;

  // The script of the server under test: what comes before the failing
  // request, the failure, and what follows it.
  std::vector<script_step> failing;
  if (row.kind == request_kind::list_pages)
    failing.push_back(reply({{"executions", {execution("FAILED")}}, {"nextToken", "page-2"}}));
  failing.push_back(failing_step(row.kind, row.point));
  if (row.expected == outcome::refused) {
    // Whatever is sent again meets the same failure (a server whose
    // script has run out answers 200 "ok"): the count of requests says
    // what was retried.
    for (int more = 0; more < 3; ++more) failing.push_back(failing_step(row.kind, row.point));
  } else if (row.expected == outcome::retried) {
    failing.push_back(good_reply(row.kind));
  } else if (row.expected == outcome::reconciled) {
    // AMC's list of the workflow's executions shows the one the lost
    // create request made.
    failing.push_back(reply({{"executions", {execution("PENDING")}}}));
  }
  if (row.kind == request_kind::put) failing.push_back(reply(execution("CANCELLED")));  // the read after it

  std::vector<script_step> lwa_script{token_reply()};
  std::vector<script_step> amc_script;
  std::vector<script_step> part_script;
  if (lwa_fails) lwa_script = failing;
  if (amc_fails) amc_script = failing;
  if (part_fails) part_script = failing;

  scripted_server lwa(lwa_script);
  scripted_server parts(part_script);
  const auto url_of = [&](const scripted_server& server, bool under_test) {
    if (under_test && row.point == failure_point::connection_refused)
      return "http://127.0.0.1:" + std::to_string(amc::net::testing::closed_port());
    // A plain HTTP server where the client expects TLS: the handshake fails.
    const std::string scheme = under_test && row.point == failure_point::tls_handshake ? "https" : "http";
    return scheme + "://127.0.0.1:" + std::to_string(server.port());
  };
  const std::string part_url = url_of(parts, part_fails) + "/results/part-1.csv?X-Amz-Signature=matrix";
  if (part_fails)
    amc_script = {reply({{"downloadUrls", {part_url}}}), reply(execution("SUCCEEDED")),
                  // the saved workflow, for its result files' CSV dialect
                  reply({{"workflowId", workflow_id}, {"sqlQuery", "SELECT 1"}})};
  scripted_server amc_server(amc_script);

  amc_client* client = nullptr;
  ASSERT_EQ(amc_client_new(config_for(url_of(amc_server, amc_fails), url_of(lwa, lwa_fails) + "/auth/o2/token").dump().c_str(),
                           &client),
            AMC_OK)
      << amc_last_error();
  ASSERT_EQ(amc_auth_import(client, json{{"credential_id", "conn"}, {"refresh_token", refresh_token}}.dump().c_str()),
            AMC_OK)
      << amc_last_error();

  const int timeout_ms = timeout_ms_of(row);
  const auto started = std::chrono::steady_clock::now();
  char* out = nullptr;
  amc_status status = AMC_OK;
  const auto directory = directory_.path() / "results";
  switch (row.kind) {
    case request_kind::token_refresh:
      status = amc_auth_refresh(client, "conn", json{{"timeout_ms", timeout_ms}}.dump().c_str(), &out);
      break;
    case request_kind::get:
      status = amc_execution_get(client, instance_request(timeout_ms, {{"amc_execution_id", amc_execution_id}}).dump().c_str(), &out);
      break;
    case request_kind::put:
      status = amc_execution_cancel(client, instance_request(timeout_ms, {{"amc_execution_id", amc_execution_id}}).dump().c_str(), &out);
      break;
    case request_kind::post_create:
      status = amc_execution_submit(
          client,
          instance_request(timeout_ms, {{"execution_id", execution_id},
                            {"request", {{"workflowId", workflow_id}, {"timeWindowType", "MOST_RECENT_DAY"}}}})
              .dump()
              .c_str(),
          &out);
      break;
    case request_kind::list_pages:
      status = amc_execution_list(
          client, instance_request(timeout_ms, {{"filters", {{"minCreationTime", "2030-01-01T00:00:00"}}}}).dump().c_str(), &out);
      break;
    case request_kind::download_part:
      status = amc_results_download(
          client,
          instance_request(timeout_ms, {{"amc_execution_id", amc_execution_id}, {"directory", directory.string()}}).dump().c_str(),
          nullptr, nullptr, &out);
      break;
  }
  const auto took = std::chrono::steady_clock::now() - started;
  const std::string error = status == AMC_OK ? "" : amc_last_error();
  const std::string result = take(out);
  amc_client_free(client);

  // The outcome.
  if (row.expected == outcome::refused) {
    EXPECT_EQ(status, row.status) << "got " << amc_status_name(status) << ": " << error;
    EXPECT_FALSE(error.empty());
  } else {
    ASSERT_EQ(status, AMC_OK) << amc_status_name(status) << ": " << error;
  }
  // Within the call's deadline (plus the door's one-second grace and a
  // loaded machine's slack): no fault makes a call hang.
  EXPECT_LT(took, std::chrono::milliseconds(timeout_ms) + 3s) << "the call ran past its timeout_ms";

  // The failing request was sent as often as documented.
  if (row.attempts > 0) {
    const auto& server = lwa_fails ? lwa : part_fails ? parts : amc_server;
    auto seen = server.requests();
    std::size_t of_it = seen.size();
    if (row.kind == request_kind::list_pages) of_it -= 1;                   // page 1
    if (row.kind == request_kind::put && status == AMC_OK) of_it -= 1;      // the read after it
    if (row.expected == outcome::reconciled) of_it -= 1;                    // the list
    EXPECT_EQ(of_it, static_cast<std::size_t>(row.attempts)) << "requests the server under test saw";
  }

  // What came back for a call that went through.
  if (status == AMC_OK && row.kind != request_kind::token_refresh) {
    const auto body = json::parse(result, nullptr, false);
    ASSERT_TRUE(body.is_object()) << result;
    if (row.kind == request_kind::post_create) {
      EXPECT_EQ(body.value("amc_execution_id", ""), amc_execution_id) << result;
      EXPECT_EQ(body.value("reattached", false), row.expected == outcome::reconciled) << result;
    }
    if (row.kind == request_kind::list_pages) {
      EXPECT_EQ(body["executions"].size(), 2u) << result;
    }
    if (row.kind == request_kind::download_part) {
      EXPECT_EQ(body["files"].size(), 1u) << result;
    }
  }

  // Nothing stored is lost: the credential keeps its refresh token, and a
  // submission is journaled (complete, or pending for the next submit of
  // the same execution_id to resolve).
  EXPECT_EQ(stored_refresh_token(), refresh_token);
  if (row.kind == request_kind::post_create) {
    const auto entry = journal_entry();
    if (row.point == failure_point::server_error) {
      EXPECT_FALSE(entry.has_value()) << "AMC said it created nothing: the attempt leaves the journal";
      return;
    }
    ASSERT_TRUE(entry.has_value()) << "the submission is journaled";
    if (status == AMC_OK) {
      EXPECT_EQ(entry->value("amc_execution_id", ""), amc_execution_id) << entry->dump();
    }
  }
  // No result file is left that is not the whole result.
  if (row.kind == request_kind::download_part && status != AMC_OK) {
    EXPECT_FALSE(std::filesystem::exists(directory / "part-1.csv")) << "a partial result file is left";
  }
}

// The matrix: every request kind × every failure point, with its documented
// outcome (docs/reliability.md, "The network fault matrix").
std::vector<cell> matrix() {
  std::vector<cell> rows;
  const request_kind kinds[] = {request_kind::token_refresh, request_kind::get,        request_kind::put,
                                request_kind::post_create,   request_kind::list_pages, request_kind::download_part};
  for (const auto kind : kinds) {
    const bool create = kind == request_kind::post_create;
    const bool download = kind == request_kind::download_part;
    // Nothing reached the server: every request is sent again, a create too.
    rows.push_back({kind, failure_point::connection_refused, outcome::refused, AMC_E_NETWORK, 0});
    // A server that breaks off the handshake (here: one that speaks plain
    // HTTP and closes on the ClientHello) is a lost connection: sent again,
    // then AMC_E_NETWORK naming the handshake. (A certificate that fails
    // verification is AMC_E_TLS, never retried: tls_verify_capi_test.cpp.)
    rows.push_back({kind, failure_point::tls_handshake, outcome::refused, AMC_E_NETWORK, 0});
    // The request may have been acted on: sent again unless it creates;
    // a create's outcome is resolved through AMC's list.
    for (const auto point : {failure_point::reset_after_write, failure_point::reset_mid_headers,
                             failure_point::reset_mid_body})
      rows.push_back({kind, point, create ? outcome::reconciled : outcome::retried, AMC_OK, create ? 1 : 2});
    // A reply slower than the call's deadline: AMC_E_TIMEOUT, by the deadline.
    rows.push_back({kind, failure_point::trickle_past_deadline, outcome::refused, AMC_E_TIMEOUT, 0});
    // 429: waited out and sent again, a create too (AMC did not act on it).
    rows.push_back({kind, failure_point::throttled, outcome::retried, AMC_OK, 2});
    // 5xx: sent again; a create is not: AMC answered that it did not
    // create it, so its error comes back and the attempt leaves the
    // journal (the next submit of the execution_id sends it anew).
    if (create)
      rows.push_back({kind, failure_point::server_error, outcome::refused, AMC_E_REMOTE, 1});
    else
      rows.push_back({kind, failure_point::server_error, outcome::retried, AMC_OK, 2});
    // A malformed body: AMC_E_PROTOCOL, not sent again. A create's 200
    // whose body cannot be read did create something: reconciled. A
    // result part cut inside a quoted field is fetched again twice
    // (download_options::max_incomplete_retries) before the download fails.
    if (create)
      rows.push_back({kind, failure_point::malformed_body, outcome::reconciled, AMC_OK, 1});
    else
      rows.push_back({kind, failure_point::malformed_body, outcome::refused, AMC_E_PROTOCOL, download ? 3 : 1});
    // A body that never ends: cut at max_response_body_bytes
    // (AMC_E_PROTOCOL); a result part, streamed to its file, by the
    // deadline (AMC_E_TIMEOUT), its file removed.
    rows.push_back({kind, failure_point::endless_body, outcome::refused, download ? AMC_E_TIMEOUT : AMC_E_PROTOCOL, 0});
  }
  return rows;
}

INSTANTIATE_TEST_SUITE_P(Network, FaultMatrix, ::testing::ValuesIn(matrix()), cell_name);

}  // namespace
