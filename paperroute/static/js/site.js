// Progressive enhancement only: every control works without this file.
(function () {
  "use strict";

  // Upvote without reloading the page; the form posts normally if anything goes wrong.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-vote]");
    if (!form || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("button");
    var action = form.querySelector("input[name=action]");
    // Not `disabled`: a disabled button loses keyboard focus, which would drop to <body>.
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    button.setAttribute("aria-busy", "true");
    // getAttribute: form.action would be the hidden input named "action", not the address.
    fetch(form.getAttribute("action"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (state) {
      form.classList.toggle("is-voted", state.upvoted);
      button.setAttribute("aria-pressed", state.upvoted ? "true" : "false");
      button.title = state.upvoted ? "Withdraw your upvote" : "Upvote";
      action.value = state.upvoted ? "down" : "up";
      form.querySelector("[data-count]").textContent = state.upvotes;
    }).catch(function () {
      form.submit();
    }).finally(function () {
      delete form.dataset.busy;
      button.removeAttribute("aria-busy");
    });
  });

  // "Copy BibTeX" and other copy buttons.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    var status = button.parentElement.querySelector(".copied");
    var text = source ? source.textContent : "";
    var done = function () { if (status) status.textContent = "Copied to the clipboard."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
    } else {
      selectText(source);
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });

  function selectText(node) {
    if (!node) return;
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
