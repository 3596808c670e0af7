// Progressive enhancement only: every control works without this file.
(function () {
  "use strict";

  // Post a form with the script and read the JSON answer; any failure rejects, and the caller
  // then submits the form the plain way. getAttribute: form.action would be the hidden input
  // named "action", not the address.
  function postForm(form) {
    return fetch(form.getAttribute("action"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    });
  }

  // The sticky header's height, for what focus and #links scroll to (site.css): 0 where the
  // header scrolls away with the page (phones, short or zoomed windows).
  var header = document.querySelector(".site-header");
  if (header) {
    var measure = function () {
      var sticky = getComputedStyle(header).position === "sticky";
      document.documentElement.style.setProperty(
        "--header-height", (sticky ? header.getBoundingClientRect().height : 0) + "px");
    };
    measure();
    window.addEventListener("resize", measure);
  }

  // A phone's row of themes or categories scrolls sideways. Chromium leaves a chip that Tab
  // reaches half visible as it is, its end and its focus ring cut off: show the whole of it.
  document.addEventListener("focusin", function (event) {
    var chip = event.target;
    if (!chip.closest(".themes ul, .facets ul")) return;
    chip.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

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
    postForm(form).then(function (state) {
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

  // Save and "Not interested" without reloading; the form posts normally if anything fails.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-shelf]");
    if (!form || !window.fetch) return;
    event.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    var button = form.querySelector("button");
    var action = form.querySelector("input[name=action]");
    button.setAttribute("aria-busy", "true");
    postForm(form).then(function (state) {
      if (form.dataset.shelf === "save") {
        button.setAttribute("aria-pressed", state.saved ? "true" : "false");
        button.classList.toggle("is-on", state.saved);
        if (button.classList.contains("button")) button.classList.toggle("button-quiet", !state.saved);
        var label = button.querySelector("[data-label]");
        if (label) label.textContent = state.saved ? button.dataset.on : button.dataset.off;
        action.value = state.saved ? "unsave" : "save";
      } else if (state.dismissed) {
        // The paper leaves the listing; the next card (or the list) keeps the keyboard focus.
        var card = form.closest(".card");
        var next = card && (card.nextElementSibling || card.previousElementSibling);
        var live = document.getElementById("shelf-status");
        if (live) live.textContent = "Hidden. You will see fewer papers like it.";
        if (card) card.remove();
        // "30 papers · ..." or "3 results for ...": one fewer now.
        var line = document.querySelector(".count-line");
        var counted = line && /^(\d+) (paper|result)s?\b/.exec(line.textContent.trim());
        if (counted && card) {
          var left = Math.max(0, Number(counted[1]) - 1);
          line.textContent = line.textContent.trim().replace(
            counted[0], left + " " + counted[2] + (left === 1 ? "" : "s"));
        }
        var target = next && next.querySelector("a, button");
        if (!target && line) {  // the last card gone: the count, not <body>, has the keyboard
          line.setAttribute("tabindex", "-1");
          target = line;
        }
        if (target) target.focus();
      }
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
    // Emptied first, and filled a moment later, so that a screen reader announces a second copy
    // too: a live region whose words do not change is not read again.
    var say = function (message) {
      if (!status) return;
      status.textContent = "";
      setTimeout(function () { status.textContent = message; }, 100);
    };
    var done = function () { say("Copied to the clipboard."); };
    var selected = function () {
      selectText(source);
      say("The text is selected: press Ctrl+C (or ⌘C) to copy it.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, selected);
    } else {
      selectText(source);
      try { if (document.execCommand("copy")) done(); else selected(); } catch (e) { selected(); }
    }
  });

  // Search as you type: the header's box becomes a combobox listing the top matches. Without
  // this script it is the plain search form.
  var searchForm = document.querySelector("form[data-suggest]");
  if (searchForm && window.fetch) {
    var box = searchForm.querySelector("input[type=search]");
    var list = searchForm.querySelector("[role=listbox]");
    var status = searchForm.querySelector("[role=status]");
    var endpoint = searchForm.getAttribute("data-suggest");
    var timer = null, request = null, active = -1, shown = [], shownFor = "";
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-expanded", "false");
    box.setAttribute("aria-controls", list.id);

    var close = function () {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    };
    var mark = function (index) {
      var options = list.querySelectorAll("[role=option]");
      active = index;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        box.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else box.removeAttribute("aria-activedescendant");
    };
    var render = function (query, results) {
      if (query !== box.value.trim()) return;  // an older answer, overtaken by typing
      list.textContent = "";
      shown = results;
      shownFor = query;
      results.forEach(function (result, i) {
        var option = document.createElement("li");
        option.id = "site-search-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var title = document.createElement("span");
        title.className = "suggest-title";
        title.textContent = result.title;
        var meta = document.createElement("span");
        meta.className = "suggest-meta";
        meta.textContent = [result.byline, result.date].filter(Boolean).join(" · ");
        option.appendChild(title);
        if (meta.textContent) {  // a paper with neither authors nor a date has no second line
          var pause = document.createElement("span");  // heard between the title and the rest
          pause.className = "visually-hidden";
          pause.textContent = ", ";
          option.appendChild(pause);
          option.appendChild(meta);
        }
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep focus in the box until the page changes
          window.location.assign(result.url);
        });
        list.appendChild(option);
      });
      if (results.length) {
        list.hidden = false;
        box.setAttribute("aria-expanded", "true");
        mark(-1);
        status.textContent = (results.length === 1 ? "1 paper" : results.length + " papers") +
          " for “" + query + "”; arrow keys to choose, Enter to open.";
      } else {
        close();
        status.textContent = "No paper found for “" + query + "” as you type; press Enter to search.";
      }
    };
    var cancel = function () {  // Escape: no answer still on its way reopens the list
      clearTimeout(timer);
      if (request) { request.abort(); request = null; }
    };
    var lookup = function () {
      var query = box.value.trim();
      if (query.length < 2) { close(); return; }
      if (request) request.abort();
      request = new AbortController();
      fetch(endpoint + "?q=" + encodeURIComponent(query),
            { headers: { "Accept": "application/json" }, signal: request.signal })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { render(query, data.results || []); })
        .catch(function () { /* aborted, or offline: the form still searches */ });
    };
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 150);
    });
    box.addEventListener("keydown", function (event) {
      var count = list.hidden ? 0 : shown.length;
      if (event.key === "ArrowDown" && !count && box.value.trim().length >= 2) {
        // Closed (by Escape, or by leaving the box): the arrow opens the list again.
        event.preventDefault();
        if (shown.length && shownFor === box.value.trim()) {
          list.hidden = false;
          box.setAttribute("aria-expanded", "true");
          mark(0);
        } else lookup();
      } else if (event.key === "ArrowDown" && count) {
        event.preventDefault();
        mark((active + 1) % count);
      } else if (event.key === "ArrowUp" && count) {
        event.preventDefault();
        mark(active <= 0 ? count - 1 : active - 1);
      } else if (event.key === "Enter" && count && active >= 0) {
        event.preventDefault();
        window.location.assign(shown[active].url);
      } else if (event.key === "Escape") {
        if (!list.hidden) event.preventDefault();
        cancel();
        close();
      }
    });
    box.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  function selectText(node) {
    if (!node) return;
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
