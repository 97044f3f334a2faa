import type * as React from "react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";

export interface FilterField {
  name: string;
  label: string;
  /** A select of these options (plus "any"); otherwise a text input of `type`. */
  options?: readonly string[];
  type?: "text" | "date" | "search";
  placeholder?: string;
}

/**
 * A filter bar: edits locally, applies on submit (one API call, one URL change), so typing a phone number does
 * not fire a search per keystroke on a slow connection.
 */
export function Filters({
  fields,
  values,
  onApply,
}: {
  fields: FilterField[];
  /** The current filters (a route's search object). */
  values: object;
  onApply(values: Record<string, string | undefined>): void;
}) {
  const [draft, setDraft] = useState(values as Record<string, string | undefined>);
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const cleaned: Record<string, string | undefined> = {};
    for (const field of fields) cleaned[field.name] = draft[field.name]?.trim() || undefined;
    onApply(cleaned);
  };
  return (
    <form onSubmit={submit} className="mb-3 flex flex-wrap items-end gap-3" aria-label="Filters">
      {fields.map((field) => (
        <div key={field.name} className="grid gap-1">
          <Label htmlFor={`filter-${field.name}`} className="text-xs">
            {field.label}
          </Label>
          {field.options ? (
            <NativeSelect
              id={`filter-${field.name}`}
              className="w-40"
              value={draft[field.name] ?? ""}
              onChange={(e) => setDraft({ ...draft, [field.name]: e.target.value })}
            >
              <option value="">any</option>
              {field.options.map((option) => (
                <option key={option} value={option}>
                  {option.replaceAll("_", " ")}
                </option>
              ))}
            </NativeSelect>
          ) : (
            <Input
              id={`filter-${field.name}`}
              type={field.type ?? "text"}
              className="w-52"
              placeholder={field.placeholder}
              value={draft[field.name] ?? ""}
              onChange={(e) => setDraft({ ...draft, [field.name]: e.target.value })}
            />
          )}
        </div>
      ))}
      <Button type="submit" variant="secondary">
        Apply
      </Button>
    </form>
  );
}
