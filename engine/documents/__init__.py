"""Documents generated from templates with case data: letters that print cleanly as HTML.

A process produces one with a service task whose operator is ``generate_document``::

    <bpmn:serviceTask id="issue_notice_letter" name="Write the Notice to Improve">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="generate_document" resultVariable="notice_letter">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="template" type="str" value="'notice_to_improve'" />
            <spiffworkflow:parameter id="title" type="str" value="'Notice to Improve'" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>

The template (``engine/documents/templates/<name>.html``, Jinja2 with autoescaping) sees the task
data as variables. The rendered HTML is stored once, exactly as issued, in the ``document`` table
when the step commits; ``notice_letter`` then holds ``{"reference", "template", "title"}``.
"""

from .rendering import DocumentConnector, render_document, template_names

__all__ = ["DocumentConnector", "render_document", "template_names"]
