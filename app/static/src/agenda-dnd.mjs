// Drag-and-drop reordering of top-level agenda items: an enhancement over the Move up / Move
// down buttons, which keep working without JavaScript. The new order is posted as a form, so
// the server applies it with the same service (and the same checks) as the buttons.
const list = document.querySelector("[data-reorder-url]");

if (list) {
  let dragged = null;
  const topLevel = () =>
    [...list.querySelectorAll(".mb-agenda__item")].filter((li) => !li.dataset.parentId);

  for (const item of topLevel()) {
    item.draggable = true;
    item.addEventListener("dragstart", (event) => {
      dragged = item;
      event.dataTransfer.effectAllowed = "move";
      item.classList.add("mb-agenda__item--dragging");
    });
    item.addEventListener("dragend", () => item.classList.remove("mb-agenda__item--dragging"));
    item.addEventListener("dragover", (event) => {
      if (dragged && dragged !== item) event.preventDefault();
    });
    item.addEventListener("drop", (event) => {
      event.preventDefault();
      if (!dragged || dragged === item) return;
      const order = topLevel().map((li) => li.dataset.itemId);
      const from = order.indexOf(dragged.dataset.itemId);
      const to = order.indexOf(item.dataset.itemId);
      order.splice(to, 0, order.splice(from, 1)[0]);
      const form = document.createElement("form");
      form.method = "post";
      form.action = list.dataset.reorderUrl;
      const fields = [["csrf_token", list.dataset.csrfToken], ...order.map((id) => ["item_id", id])];
      for (const [name, value] of fields) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    });
  }
}
