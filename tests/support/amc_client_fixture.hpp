// A sandbox with one AMC instance, and a client holding credential "conn"
// for it: the set-up the AMC operation tests share. Tests reach the
// instance through context_ and run operations with run().
#pragma once

#include "api/session.hpp"
#include "support/sandbox_fixture.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>

namespace amc::testing {

class amc_client_fixture : public sandbox_fixture {
 protected:
  // The one instance (amcinstance01, advertiser ENTITYAAAAAAAAAAAAA1 in
  // ATVPDKIKX0DER). A test that changes more options calls this first.
  void configure(sandbox::sandbox_options& options) override {
    options.instances = {{"amcinstance01", "Test instance", "ENTITYAAAAAAAAAAAAA1", "ATVPDKIKX0DER"}};
  }
  // Changes merged over the client's config (see make_client).
  virtual nlohmann::json client_changes() { return nlohmann::json::object(); }

  void SetUp() override {
    sandbox_fixture::SetUp();
    client_ = make_client(client_changes());
    add_credential(*client_);
    context_ = {"conn", "amcinstance01", "ENTITYAAAAAAAAAAAAA1", "ATVPDKIKX0DER"};
  }
  void TearDown() override {
    client_.reset();
    expect_no_secret_in_captured_text({server_->service().client_secret(), fernet_key_});
    sandbox_fixture::TearDown();
  }

  // Runs an AMC operation on the client, blocking for at most a minute.
  template <class T>
  T run(boost::asio::awaitable<T> operation) {
    return client_->run_blocking(std::move(operation), std::chrono::seconds(60));
  }

  std::unique_ptr<client::client> client_;
  api::call_context context_;
};

}  // namespace amc::testing
