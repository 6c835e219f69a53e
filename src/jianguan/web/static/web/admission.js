// 物品登记: "添加一行" copies the last row of the belongings table with its inputs emptied.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("add-item");
  const rows = document.getElementById("item-rows");
  if (!button || !rows) return;
  button.addEventListener("click", () => {
    const last = rows.querySelector("tr:last-child");
    const copy = last.cloneNode(true);
    copy.querySelectorAll("input").forEach((input) => { input.value = ""; });
    copy.querySelectorAll("select").forEach((select) => { select.selectedIndex = 0; });
    rows.appendChild(copy);
    copy.querySelector("input").focus();
  });
});
