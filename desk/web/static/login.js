"use strict";
(function () {
  const form = document.getElementById("login");
  const error = document.getElementById("error");
  const submit = document.getElementById("submit");
  document.title = tr("login.page_title");
  if (new URLSearchParams(location.search).has("expired")) document.getElementById("expired").hidden = false;

  function cookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
  }

  function fail(text) {
    error.textContent = text;
    error.hidden = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email || !password) return fail(tr("login.enter_both"));
    submit.disabled = true;
    submit.textContent = tr("login.signing_in");
    try {
      const resp = await fetch("/api/login", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": cookie("tsunagi_login_csrf"), "Accept-Language": I18N.locale },
        body: JSON.stringify({ email, password }),
      });
      if (resp.ok) { location.replace("/"); return; }
      let message = tr("login.failed", { status: resp.status });
      try { message = (await resp.json()).error || message; } catch (_) { /* not JSON */ }
      if (resp.status === 403) message += tr("login.reloading");
      fail(message);
      if (resp.status === 403) setTimeout(() => location.reload(), 1500);
      form.password.select();
    } catch (_) {
      fail(tr("login.unreachable"));
    } finally {
      submit.disabled = false;
      submit.textContent = tr("login.sign_in");
    }
  });
})();
