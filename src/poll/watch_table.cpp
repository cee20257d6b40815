#include "poll/watch_table.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

#include <fmt/format.h>

#include <optional>
#include <utility>

namespace amc::poll {

namespace {

// 8-4-4-4-12 hex digits, all lower case or all upper case (so that the text
// can be given back exactly).
std::optional<uuid_key> parse_uuid(std::string_view text, bool& upper) {
  if (text.size() != 36) return std::nullopt;
  bool has_lower = false, has_upper = false;
  uuid_key key;
  int digits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    const int value = hex_digit_value(c);
    if (value < 0) return std::nullopt;
    if (c >= 'a' && c <= 'f') has_lower = true;
    if (c >= 'A' && c <= 'F') has_upper = true;
    auto& half = digits < 16 ? key.high : key.low;
    half = (half << 4) | static_cast<std::uint64_t>(value);
    ++digits;
  }
  if (has_lower && has_upper) return std::nullopt;
  upper = has_upper;
  return key;
}

std::string format_uuid(const uuid_key& key, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char text[36];
  std::size_t at = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) text[at++] = '-';
    const std::uint64_t half = i < 16 ? key.high : key.low;
    text[at++] = digits[(half >> (4 * (15 - (i % 16)))) & 15];
  }
  return std::string(text, sizeof text);
}

std::string group_key(const call_context& context) {
  std::string key = context.credential_id;
  for (const auto* part : {&context.instance_id, &context.advertiser_id, &context.marketplace_id}) {
    key += '\x1f';
    key += *part;
  }
  return key;
}

// AMC's ad-hoc runs get a fresh "transient_…" workflow id each: their
// history is the instance's ad-hoc history.
std::string history_key(std::uint32_t group, std::string_view workflow_id) {
  if (workflow_id.starts_with("transient_")) workflow_id = {};
  return fmt::format("{}\x1f{}", group, workflow_id);
}

}  // namespace

std::uint32_t string_pool::add(std::string text) {
  if (!free_.empty()) {
    const auto index = free_.back();
    free_.pop_back();
    texts_[index] = std::move(text);
    return index;
  }
  texts_.push_back(std::move(text));
  return static_cast<std::uint32_t>(texts_.size() - 1);
}

void string_pool::release(std::uint32_t index) {
  std::string().swap(texts_[index]);
  free_.push_back(index);
}

watch_table::watch_table() {
  statuses_.emplace_back();  // index 0: not read yet
}

std::uint32_t watch_table::add(const new_watch& watch) {
  bool upper = false;
  std::optional<uuid_key> uuid;
  if (!watch.workflow) uuid = parse_uuid(watch.amc_execution_id, upper);
  std::uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= none - 1) throw error(errc::invalid_argument, "too many watches");
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  auto& slot = slots_[index];
  slot.flags = alive;
  std::uint32_t* head = nullptr;
  if (watch.workflow) {
    // No execution id: lists find it by its group (workflow_watches.hpp).
    slot.flags |= workflow_kind;
  } else if (uuid) {
    slot.id = *uuid;
    if (upper) slot.flags |= upper_hex;
    head = &by_uuid_.try_emplace(*uuid, none).first->second;
  } else {
    slot.flags |= textual_id;
    slot.id.low = textual_ids_.add(std::string(watch.amc_execution_id));
    head = &by_text_.try_emplace(std::string(watch.amc_execution_id), none).first->second;
  }
  if (head != nullptr) {
    slot.next_same = *head;
    *head = index;
  }
  auto [group, inserted] =
      group_index_.try_emplace(group_key(watch.context), static_cast<std::uint32_t>(groups_.size()));
  if (inserted) {
    watch_group added;
    added.context = watch.context;
    // Checked before the watch was taken (status_source::validate): every
    // read of the group skips it.
    added.context.instance_checked = true;
    groups_.push_back(std::move(added));
  }
  auto& members = groups_[group->second].members;
  slot.group = group->second;
  slot.member_position = static_cast<std::uint32_t>(members.size());
  members.push_back(index);
  if (!watch.execution_id.empty()) slot.journal_id = journal_ids_.add(std::string(watch.execution_id));
  slot.create_time = watch.create_time;
  slot.interval_ms = watch.interval_ms;
  slot.callback = watch.callback;
  slot.user = watch.user;
  slot.destroy_user = watch.destroy_user;
  ++watched_;
  return index;
}

std::string watch_table::execution_text(const watch_slot& slot) const {
  if (slot.flags & textual_id) return textual_ids_.at(static_cast<std::uint32_t>(slot.id.low));
  return format_uuid(slot.id, (slot.flags & upper_hex) != 0);
}

std::uint32_t* watch_table::id_map_head(const watch_slot& slot) {
  if (slot.flags & textual_id) {
    auto found = by_text_.find(textual_ids_.at(static_cast<std::uint32_t>(slot.id.low)));
    return found == by_text_.end() ? nullptr : &found->second;
  }
  auto found = by_uuid_.find(slot.id);
  return found == by_uuid_.end() ? nullptr : &found->second;
}

std::uint32_t watch_table::find_execution(std::string_view text) const {
  bool upper = false;
  if (const auto key = parse_uuid(text, upper)) {
    auto found = by_uuid_.find(*key);
    return found == by_uuid_.end() ? none : found->second;
  }
  auto found = by_text_.find(std::string(text));
  return found == by_text_.end() ? none : found->second;
}

std::uint16_t watch_table::intern_status(const std::string& text) {
  auto found = status_index_.find(text);
  if (found != status_index_.end()) return found->second;
  if (statuses_.size() >= std::numeric_limits<std::uint16_t>::max()) return 0;
  statuses_.push_back(text);
  const auto index = static_cast<std::uint16_t>(statuses_.size() - 1);
  status_index_.emplace(text, index);
  return index;
}

std::uint32_t watch_table::history_of(std::uint32_t group, std::string_view workflow_id) {
  auto key = history_key(group, workflow_id);
  auto [found, inserted] = history_index_.try_emplace(std::move(key), static_cast<std::uint32_t>(histories_.size()));
  if (inserted) histories_.emplace_back();
  return found->second;
}

void watch_table::rebuild_due() {
  std::vector<heap_entry> entries;
  entries.reserve(watched_);
  for (std::uint32_t index = 0; index < slots_.size(); ++index) {
    const auto& slot = slots_[index];
    if ((slot.flags & alive) && !(slot.flags & (in_flight | final_queued)))
      entries.push_back({slot.due_ms, index, slot.generation});
  }
  due_ = decltype(due_)(std::greater<>(), std::move(entries));
}

void watch_table::detach(std::uint32_t index) {
  auto& slot = slots_[index];
  if (slot.group != none) {
    auto& members = groups_[slot.group].members;
    const auto position = slot.member_position;
    members[position] = members.back();
    slots_[members[position]].member_position = position;
    members.pop_back();
    slot.group = none;
    slot.member_position = none;
  }
  if (std::uint32_t* head = (slot.flags & workflow_kind) ? nullptr : id_map_head(slot)) {
    if (*head == index) {
      if (slot.next_same == none) {
        if (slot.flags & textual_id) by_text_.erase(textual_ids_.at(static_cast<std::uint32_t>(slot.id.low)));
        else by_uuid_.erase(slot.id);
      } else {
        *head = slot.next_same;
      }
    } else {
      for (std::uint32_t at = *head; at != none; at = slots_[at].next_same)
        if (slots_[at].next_same == index) {
          slots_[at].next_same = slot.next_same;
          break;
        }
    }
  }
  slot.next_same = none;
}

void watch_table::release(std::uint32_t index) {
  auto& slot = slots_[index];
  if (slot.flags & textual_id) textual_ids_.release(static_cast<std::uint32_t>(slot.id.low));
  if (slot.journal_id != none) journal_ids_.release(slot.journal_id);
  const auto generation = slot.generation + 1;
  slot = watch_slot{};
  slot.generation = generation == 0 ? 1 : generation;
  free_slots_.push_back(index);
  --watched_;
}

}  // namespace amc::poll
