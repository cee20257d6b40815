#include "api/results.hpp"

#include "api/operations.hpp"
#include "api/shapes.hpp"
#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/text.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <optional>

namespace amc::api {

namespace asio = boost::asio;

namespace {

nlohmann::json output_format_of(const csv_dialect& dialect) {
  auto text = [](std::optional<char> c) { return c ? std::string(1, *c) : std::string(); };
  return {{"separatorCharacter", std::string(1, dialect.separator)},
          {"quoteCharacter", text(dialect.quote)},
          {"escapeCharacter", text(dialect.escape)}};
}

}  // namespace

namespace {

// S3 answers an expired or no longer valid pre-signed URL with 403 (or 400).
bool url_expired(unsigned status) { return status == 403 || status == 400 || status == 410; }

// The parts' URLs, shared by the parts: one part replaces them all when
// they have expired while the others read them. The parts are separate
// coroutines on the calling coroutine's executor. A blocking call
// (client::run_blocking) runs on a strand, so they take turns there; an
// executor without a strand with io_threads > 1 would run them on several
// threads at once, so every access takes the mutex (never held across a
// co_await).
class shared_urls {
 public:
  explicit shared_urls(std::vector<std::string> urls) : urls_(std::move(urls)) {}
  std::string of_part(int part) const {
    std::lock_guard lock(mutex_);
    return urls_.at(static_cast<std::size_t>(part - 1));
  }
  void replace(std::vector<std::string> fresh) {
    std::lock_guard lock(mutex_);
    urls_ = std::move(fresh);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> urls_;
};

struct download_job {
  session& amc;
  net::http_client& http;
  const call_context& context;
  const std::string& amc_execution_id;
  const download_options& options;
  shared_urls& urls;  // refreshed when they expire
  int parts;
  csv_dialect dialect;
};

// The dialect of the workflow that produced an execution's results: an
// outputFormat AMC reports with the execution (or its inline workflow),
// else the saved workflow's, else AMC's defaults (an ad-hoc run's
// transient workflow is not saved).
asio::awaitable<csv_dialect> dialect_of_execution(session& amc, const call_context& context,
                                                  const std::string& amc_execution_id,
                                                  store::execution_journal* journal) {
  if (journal != nullptr)
    if (const auto entry = journal->find_by_amc_id(amc_execution_id); entry && !entry->output_format.empty())
      if (const auto format = parse_json_bounded(entry->output_format))
        co_return dialect_of(*format, "createWorkflowExecution");
  const auto execution = co_await get_execution(amc, context, amc_execution_id);
  if (const auto format = execution.find("outputFormat"); format != execution.end() && !format->is_null())
    co_return dialect_of(*format, "getWorkflowExecution");
  if (const auto inline_workflow = execution.find("workflow");
      inline_workflow != execution.end() && inline_workflow->is_object() && inline_workflow->contains("outputFormat"))
    co_return dialect_of((*inline_workflow)["outputFormat"], "getWorkflowExecution");
  const auto workflow_id = reply_string(execution, "workflowId", "getWorkflowExecution");
  if (!workflow_id) co_return csv_dialect{};
  std::optional<nlohmann::json> workflow;
  try {
    workflow = co_await get_workflow(amc, context, *workflow_id);
  } catch (const error& problem) {
    // Not saved (ad hoc), or an id AMC made that libamc would not send.
    if (problem.code_value() != errc::not_found && problem.code_value() != errc::invalid_argument) throw;
  }
  if (!workflow) co_return csv_dialect{};
  const auto format = workflow->find("outputFormat");
  co_return format == workflow->end() ? csv_dialect{} : dialect_of(*format, "getWorkflow");
}

asio::awaitable<nlohmann::json> download_part(download_job& job, int part) {
  const auto final_path = job.options.directory / fmt::format("part-{}.csv", part);
  const auto partial_path = job.options.directory / fmt::format("part-{}.csv.partial", part);
  auto discard_partial = [&] {
    std::error_code ignored;
    std::filesystem::remove(partial_path, ignored);
  };
  int incomplete = 0;
  for (int refreshes = 0;; ++refreshes) {
    net::request request;
    const std::string url_used = job.urls.of_part(part);
    request.url = url_used;
    request.headers.push_back({std::string(net::accept_identity.first), std::string(net::accept_identity.second)});
    request.deadline = job.context.deadline;
    request.operation = "download_results";
    refuse_past_deadline(job.context, fmt::format("the download of result part {}", part));
    // A pre-signed URL carries its own authorisation: no AMC headers, and no
    // client id, so the rate limiter keys it by its host alone. The client
    // retries a connection cut before the Content-Length was read.
    std::optional<net::response> reply;
    try {
      reply = co_await job.http.download(
          std::move(request), partial_path, [&](std::uint64_t bytes, std::uint64_t total) {
            if (job.options.progress) job.options.progress({part, job.parts, bytes, total});
          });
    } catch (const error& problem) {
      discard_partial();
      if (problem.code_value() == errc::cancelled) throw;
      throw error(problem.code_value(),
                  fmt::format("downloading result part {} of execution {} failed: {}; no result was "
                              "kept: download the results again",
                              part, job.amc_execution_id, problem.message()),
                  problem.detail())
          .with_fields_of(problem);
    }
    // Bytes in an encoding libamc did not ask for are not the result, whatever
    // they would pass for as CSV (a gzip body was saved as part-N.csv and
    // reported complete): refused, never fetched again.
    if (const auto encoding = reply->unasked_content_encoding()) {
      discard_partial();
      throw error(errc::protocol,
                  fmt::format("result part {} of execution {} came with Content-Encoding {}, which libamc did not "
                              "ask for (it sends Accept-Encoding: identity) and does not decode; no result was kept",
                              part, job.amc_execution_id, *encoding),
                  {{"http_status", reply->status}, {"part", part}});
    }
    if (reply->status == 200) {
      // What arrived whole at the transport may still be cut short (see
      // summarize_csv): fetch it again, and never report it as complete.
      std::optional<csv_summary> checked;
      std::string why_incomplete;
      try {
        checked = summarize_csv(partial_path, job.dialect);
      } catch (const error& problem) {
        if (problem.code_value() != errc::protocol) throw;
        why_incomplete = problem.message();
      }
      if (!checked) {
        discard_partial();
        if (++incomplete > job.options.max_incomplete_retries)
          throw error(errc::protocol,
                      fmt::format("result part {} of execution {} was incomplete in each of {} downloads "
                                  "(last: {}); no result was kept: download the results again later",
                                  part, job.amc_execution_id, incomplete, why_incomplete),
                      {{"part", part}});
        --refreshes;  // the URL still works: this is not a refresh
        continue;
      }
      const auto& summary = *checked;
      std::error_code problem;
      std::filesystem::rename(partial_path, final_path, problem);
      if (problem)
        throw error(errc::store, fmt::format("could not move the result file into place '{}': {}",
                                             final_path.string(), problem.message()));
      const auto bytes = std::filesystem::file_size(final_path);
      co_return nlohmann::json{{"part", part},
                               {"path", final_path.string()},
                               {"bytes", bytes},
                               {"rows", summary.rows},
                               {"columns", summary.columns}};
    }
    discard_partial();
    if (reply->status >= 300 && reply->status < 400)
      throw error(errc::protocol,
                  fmt::format("downloading result part {} of execution {} was answered with a redirect (HTTP {}) "
                              "{}, which libamc does not follow; no result was kept",
                              part, job.amc_execution_id, reply->status, reply->redirect_target()),
                  {{"http_status", reply->status}, {"part", part}});
    if (!url_expired(reply->status) || refreshes >= job.options.max_url_refreshes)
      throw error(errc::remote,
                  fmt::format("downloading result part {} of execution {} failed with HTTP {}", part,
                              job.amc_execution_id, reply->status),
                  {{"http_status", reply->status}, {"part", part}});
    // The URL expired. Another part may have fetched fresh URLs already;
    // otherwise ask AMC for them, then try this part again.
    if (job.urls.of_part(part) != url_used) continue;
    auto fresh = read_download_urls(co_await download_urls(job.amc, job.context, job.amc_execution_id)).urls;
    if (static_cast<int>(fresh.size()) != job.parts)
      throw error(errc::protocol, "AMC changed the number of result parts between two downloadUrls calls");
    job.urls.replace(std::move(fresh));
  }
}

}  // namespace

asio::awaitable<nlohmann::json> download_results(session& amc, net::http_client& http,
                                                 const call_context& context, std::string amc_execution_id,
                                                 download_options options) {
  validate_instance_context(context);
  if (options.directory.empty())
    throw error(errc::invalid_argument, "the download needs a \"directory\" for the result files");
  if (options.parallelism < 1 || options.parallelism > 16)
    throw error(errc::invalid_argument, "parallelism must be between 1 and 16");
  std::error_code problem;
  std::filesystem::create_directories(options.directory, problem);
  if (problem)
    throw error(errc::store, fmt::format("could not create the result directory '{}': {}",
                                         options.directory.string(), problem.message()));

  nlohmann::json reply;
  try {
    reply = co_await download_urls(amc, context, amc_execution_id);
  } catch (const error& refused) {
    // AMC's "unavailable for download" (api/session.cpp types it).
    if (refused.code_value() == errc::conflict)
      throw error(errc::conflict,
                  fmt::format("the results of execution {} are not available (yet): wait until it "
                              "has SUCCEEDED",
                              amc_execution_id),
                  refused.detail())
          .with_fields_of(refused);
    throw;
  }
  const auto first = read_download_urls(reply);
  const auto part_count = first.urls.size();
  shared_urls urls(first.urls);
  auto dialect = options.dialect;
  if (!dialect) dialect = co_await dialect_of_execution(amc, context, amc_execution_id, options.journal);
  download_job job{amc, http, context, amc_execution_id, options, urls, static_cast<int>(part_count), *dialect};

  // Parts run in waves of `parallelism` coroutines on this executor (see
  // shared_urls).
  std::vector<nlohmann::json> files(part_count);
  const auto executor = co_await asio::this_coro::executor;
  for (int first_part = 1; first_part <= job.parts; first_part += options.parallelism) {
    const int last = std::min(job.parts, first_part + options.parallelism - 1);
    using operation = decltype(asio::co_spawn(executor, download_part(job, 1), asio::deferred));
    std::vector<operation> wave;
    for (int part = first_part; part <= last; ++part)
      wave.push_back(asio::co_spawn(executor, download_part(job, part), asio::deferred));
    auto [order, failures, results] =
        co_await asio::experimental::make_parallel_group(std::move(wave))
            .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    // The first failure in completion order is the cause: with
    // wait_for_one_error, the parts still running are cancelled because of
    // it and fail after it (errc::cancelled), whatever their part number.
    for (const std::size_t index : order)
      if (failures[index]) std::rethrow_exception(failures[index]);
    for (std::size_t i = 0; i < results.size(); ++i)
      files[static_cast<std::size_t>(first_part - 1) + i] = std::move(results[i]);
  }
  std::uint64_t total_bytes = 0;
  std::uint64_t total_rows = 0;
  for (const auto& file : files) {
    total_bytes += file["bytes"].get<std::uint64_t>();
    total_rows += file["rows"].get<std::uint64_t>();
  }
  co_return nlohmann::json{{"amc_execution_id", amc_execution_id},
                           {"directory", options.directory.string()},
                           {"files", files},
                           {"total_bytes", total_bytes},
                           {"total_rows", total_rows},
                           {"warnings", first.warnings},
                           {"output_format", output_format_of(*dialect)}};
}

}  // namespace amc::api
