// "Copy link" buttons on My badges: shown only where the Clipboard API works (the link stays
// selectable text for everyone else); the result is announced to screen readers.
document.querySelectorAll("button.copy[data-copy]").forEach((button) => {
  if (!navigator.clipboard) return;
  button.hidden = false;
  const input = document.getElementById(button.dataset.copy);
  const said = button.parentElement.querySelector(".copied");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      said.textContent = "Link copied.";
    } catch (error) {
      input.select();
      said.textContent = "Press Ctrl+C (or ⌘C) to copy the selected link.";
    }
  });
});
