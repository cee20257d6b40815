// An instance's data sources: listDataSources (paged with limit and
// nextToken, 100 per page unless data_sources_page_size says less) and
// getDataSource, following shared/specs. AMC's spec caps a DataSource's
// columns at 500 per reply and documents no way to read more; the sandbox
// answers a wider table's first 500 columns with a "nextToken" in the
// DataSource object and the rest to ?nextToken= (src/sandbox/README.md: our
// assumption).
#include "sandbox/service_handlers.hpp"

#include "sandbox/data_sources.hpp"
#include "sandbox/paging.hpp"
#include "sandbox/service_detail.hpp"

#include <fmt/format.h>

namespace amc::sandbox::data_source_handlers {

using nlohmann::json;
using http::status;

http_response list(sandbox_state& state, const http_request& request, instance_state&, std::string_view query) {
  const auto media = detail::data_sources_media_type;
  const auto params = detail::parse_parameters(query);
  detail::page_request page = detail::read_page(params, detail::page_limit);
  if (!page.error.empty()) return detail::amc_error(request, status::bad_request, page.error, media);
  if (detail::find_parameter(params, "limit") == nullptr)
    page.limit = static_cast<std::size_t>(state.options.data_sources_page_size);
  const auto& catalog = data_source_catalog();
  json list = json::array();
  for (std::size_t i = page.offset; i < catalog.size() && i < page.offset + page.limit; ++i) {
    json source = catalog[i];
    // A list item is within the spec's 500 columns too.
    if (source["columns"].size() > max_columns_per_reply) source["columns"].get_ref<json::array_t&>().resize(max_columns_per_reply);
    list.push_back(std::move(source));
  }
  json body = {{"dataSources", std::move(list)}};
  if (page.offset + page.limit < catalog.size()) body["nextToken"] = detail::encode_page_token(page.offset + page.limit);
  return detail::make_json(request, status::ok, body, media);
}

http_response get(sandbox_state& state, const http_request& request, instance_state&, std::string_view data_source_id,
                  std::string_view query) {
  const auto media = detail::data_sources_media_type;
  const json* found = find_data_source(data_source_id);
  if (found == nullptr)
    return detail::amc_error(request, status::not_found, fmt::format("Data source {} not found.", data_source_id),
                             media);
  std::size_t offset = 0;
  const auto params = detail::parse_parameters(query);
  if (const std::string* token = detail::find_parameter(params, "nextToken"); token != nullptr && !token->empty()) {
    const auto decoded = detail::decode_page_token(*token);
    if (!decoded) return detail::amc_error(request, status::bad_request, "nextToken is not valid.", media);
    offset = *decoded;
  }
  json source = *found;
  const json& columns = (*found)["columns"];
  json page = json::array();
  for (std::size_t i = offset; i < columns.size() && i < offset + max_columns_per_reply; ++i) page.push_back(columns[i]);
  source["columns"] = std::move(page);
  // In the DataSource object, in both shapes: the wrapped one stays exactly
  // {"dataSource": {...}}, and an object may hold fields the spec does not
  // name.
  if (offset + max_columns_per_reply < columns.size())
    source["nextToken"] = detail::encode_page_token(offset + max_columns_per_reply);
  json body = state.options.shape == response_shape::wrapped ? json{{"dataSource", std::move(source)}} : std::move(source);
  return detail::make_json(request, status::ok, body, media);
}

}  // namespace amc::sandbox::data_source_handlers
