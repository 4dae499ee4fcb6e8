// Achievement form: pick a skill from the catalogue while typing its name.
// Each skill row has a search box; typing shows the matching catalogue skills (GET
// <data-search-url>?q=...&framework=...) as buttons; picking one fills the row's framework,
// name, URL and code. Without JavaScript the row's Find button does the same through the server.
(function () {
  "use strict";
  var fieldset = document.querySelector(".skills-fieldset[data-search-url]");
  if (!fieldset || !window.fetch) {
    return;
  }
  var searchUrl = fieldset.getAttribute("data-search-url");
  var DELAY = 200;

  function rowOf(element) {
    return element.closest(".skill-row");
  }

  function field(row, cls) {
    return row.querySelector("." + cls);
  }

  function clear(row) {
    var list = field(row, "skill-results");
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
  }

  function pick(row, skill) {
    var select = field(row, "skill-framework");
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === skill.framework_id; });
    if (!option) {
      option = new Option(skill.framework, skill.framework_id);
      select.add(option);
    }
    select.value = skill.framework_id;
    field(row, "skill-name").value = skill.name;
    field(row, "skill-url").value = skill.url;
    field(row, "skill-code").value = skill.code || "";
    field(row, "skill-description").value = skill.description || "";
    var search = field(row, "skill-search");
    search.value = "";
    clear(row);
    field(row, "skill-status").textContent = "Picked " + skill.name + " (" + skill.framework + ").";
    field(row, "skill-name").focus();
  }

  function show(row, items, query) {
    clear(row);
    var list = field(row, "skill-results");
    items.forEach(function (skill) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "skill-hit";
      button.appendChild(document.createTextNode(skill.name + " "));
      var detail = document.createElement("span");
      detail.className = "fine";
      detail.textContent = skill.framework + (skill.code ? " · " + skill.code : "");
      button.appendChild(detail);
      button.addEventListener("click", function () { pick(row, skill); });
      item.appendChild(button);
      list.appendChild(item);
    });
    var status = field(row, "skill-status");
    if (!query) {
      status.textContent = "";
    } else if (items.length) {
      status.textContent = items.length + (items.length === 1 ? " skill" : " skills") + " found: pick one.";
    } else {
      status.textContent = "No skill in the catalogue matches \u201c" + query + "\u201d.";
    }
  }

  function search(row) {
    var query = field(row, "skill-search").value.trim();
    var serial = (row.searchSerial || 0) + 1;
    row.searchSerial = serial;
    if (query.length < 2) {
      show(row, [], "");
      return;
    }
    var framework = field(row, "skill-framework").value;
    var url = searchUrl + "?q=" + encodeURIComponent(query) + (framework ? "&framework=" + encodeURIComponent(framework) : "");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        if (row.searchSerial === serial) {   // only the answer to the latest keystroke
          show(row, data.items || [], query);
        }
      })
      .catch(function () {
        field(row, "skill-status").textContent = "The catalogue could not be searched; use the Find button.";
      });
  }

  fieldset.addEventListener("input", function (event) {
    if (event.target.classList.contains("skill-name") || event.target.classList.contains("skill-url")) {
      field(rowOf(event.target), "skill-description").value = "";   // typed by hand: not the picked skill any more
      return;
    }
    if (!event.target.classList.contains("skill-search")) {
      return;
    }
    var row = rowOf(event.target);
    window.clearTimeout(row.searchTimer);
    row.searchTimer = window.setTimeout(function () { search(row); }, DELAY);
  });

  fieldset.addEventListener("keydown", function (event) {
    if (!event.target.classList.contains("skill-search")) {
      return;
    }
    var row = rowOf(event.target);
    if (event.key === "Enter") {          // search now instead of sending the form
      event.preventDefault();
      window.clearTimeout(row.searchTimer);
      search(row);
    } else if (event.key === "ArrowDown") {
      var first = row.querySelector(".skill-hit");
      if (first) {
        event.preventDefault();
        first.focus();
      }
    } else if (event.key === "Escape") {
      show(row, [], "");
    }
  });
}());
