// amc-sandbox as a library: an HTTP/1.1 (or HTTPS) server on 127.0.0.1 with
// keep-alive and N I/O threads, in front of sandbox_service. Tests and
// benchmarks start one in-process on an ephemeral port; the amc-sandbox
// executable is a thin main() around it.
#pragma once

#include "sandbox/options.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace amc::sandbox {

class sandbox_service;

class sandbox_server {
 public:
  explicit sandbox_server(sandbox_options options);
  ~sandbox_server();  // stops the server
  sandbox_server(const sandbox_server&) = delete;
  sandbox_server& operator=(const sandbox_server&) = delete;

  // Binds, generates the TLS chain if asked, writes the state files and the
  // port file, then serves on the I/O threads. Throws on failure.
  void start();
  // Closes the listener and every connection, joins the threads. Idempotent.
  void stop();

  // A restart that keeps the sandbox's state (executions, grants, tokens,
  // faults, clock), as a real service keeps its data across a restart: take
  // the service out of a stopped server, destroy that server (its
  // connections close), and give the service to a new server, e.g. on the
  // same port, before its start(). Plain HTTP only: a TLS server makes a new
  // CA at start.
  std::unique_ptr<sandbox_service> release_service();
  void adopt_service(std::unique_ptr<sandbox_service> service);

  std::uint16_t port() const;
  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
  const std::string& base_url() const;
  // The generated test CA (PEM); empty for plain HTTP.
  const std::string& ca_certificate_pem() const;
  // STATE_DIR/ca.pem when TLS and a state dir are configured.
  std::filesystem::path ca_file() const;
  // Valid after start().
  sandbox_service& service();
  const sandbox_options& options() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace amc::sandbox
