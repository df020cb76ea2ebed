/* phonehome admin: small progressive enhancement. Every page reads and every form posts without it. */
"use strict";

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  // Plain-HTTP admin listeners on a LAN address are not a "secure context": fall back to a selection.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "absolute";
  area.style.left = "-9999px";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  document.body.removeChild(area);
  return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

function setUpCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const label = button.textContent;
      copyText(source.textContent).then(
        () => { button.textContent = "Copied"; },
        () => { button.textContent = "Select and copy by hand"; },
      );
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
}

function setUpUploadProgress() {
  for (const form of document.querySelectorAll("form[data-progress]")) {
    const bar = document.getElementById(form.dataset.progress);
    form.addEventListener("submit", (event) => {
      if (!window.FormData || !bar) return;
      event.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      bar.hidden = false;
      bar.value = 0;
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
      });
      xhr.addEventListener("load", () => {
        // The server answers the same page a plain form post would get: show it.
        bar.value = 100;
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", () => {
        bar.hidden = true;
        const note = document.createElement("p");
        note.className = "error";
        note.setAttribute("role", "alert");
        note.textContent = "The upload failed (connection lost). Nothing was imported; try again.";
        form.after(note);
      });
      for (const button of form.querySelectorAll("button")) button.disabled = true;
      xhr.send(new FormData(form));
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setUpCopyButtons();
  setUpUploadProgress();
});
